import assert from "node:assert/strict";
import { stringify } from "yaml";
import { petsDocument, startOpenApiFixture } from "../fixtures/openapi_server.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import {
  connectClient,
  initialize,
  postJsonRpc,
  PROTOCOL_VERSION,
  readJsonRpcReply,
} from "../_support/client.ts";
import { listedToolNames, startGateway } from "../_support/gateway.ts";
import { CallToolResultSchema } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

Deno.test("an openapi upstream serves each operation as a tool through /mcp, auth header from ${VAR}", async () => {
  await using api = await startOpenApiFixture("s3cret");
  await using gw = await startGateway(
    `servers:\n  - name: pets\n    openapi: ${api.documentUrl}\n` +
      `    headers:\n      Authorization: "Bearer \${PETS_TOKEN}"\n`,
    { PETS_TOKEN: "s3cret" },
  );
  await waitFor(() => gw.gateway.catalog().size === 3, "the three operations as tools");
  await using client = await connectClient(gw.url);

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), [
    "pets__getPet",
    "pets__createPet",
    "pets__get_secret",
  ]);
  const getPet = tools[0]!;
  assert.match(getPet.description!, /Find a pet by id/);
  assert.deepEqual(getPet.inputSchema.required, ["petId"]);
  assert.deepEqual(Object.keys(getPet.inputSchema.properties!), ["petId", "verbose"]);
  assert.equal(getPet.outputSchema?.type, "object");
  assert.deepEqual(tools[1]!.inputSchema.required, ["body"]);
  assert.deepEqual(
    Object.keys(tools[2]!.inputSchema.properties!),
    ["X-Trace"],
    "Authorization comes from the config, not from the caller",
  );

  const found = await client.callTool({
    name: "pets__getPet",
    arguments: { petId: "a b/c", verbose: true },
  });
  assert.equal(found.isError, undefined);
  assert.deepEqual(found.structuredContent, { id: "a b/c", name: "pet a b/c", verbose: true });
  assert.deepEqual(JSON.parse(text(found)), found.structuredContent);
  assert.equal(api.requests[0]!.target, "/v1/pets/a%20b%2Fc?verbose=true");

  // The SDK client checks structuredContent against outputSchema: `tag: null` passes only
  // because OpenAPI 3.0's `nullable: true` became `type: ["string", "null"]`.
  const created = await client.callTool({
    name: "pets__createPet",
    arguments: { body: { name: "Rex" } },
  });
  assert.deepEqual(created.structuredContent, { id: "2", name: "Rex", tag: null });
  assert.equal(api.requests[1]!.method, "POST");
  assert.equal(api.requests[1]!.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(api.requests[1]!.body), { name: "Rex" });

  const missing = await client.request({
    method: "tools/call",
    params: { name: "pets__getPet", arguments: { petId: "missing" } },
  }, CallToolResultSchema);
  assert.equal(missing.isError, true);
  assert.equal(text(missing), `HTTP 404 Not Found: {"error":"no pet 'missing'"}`);

  const secret = await client.callTool({
    name: "pets__get_secret",
    arguments: { "X-Trace": "t-1" },
  });
  assert.equal(text(secret), "the secret");
  assert.equal(api.requests[3]!.headers.get("authorization"), "Bearer s3cret");
  assert.equal(api.requests[3]!.headers.get("x-trace"), "t-1");

  const report = await (await fetch(`${gw.base}/health`)).json();
  assert.equal(report.servers[0].transport, "openapi");
  assert.equal(report.servers[0].tools_count, 3);
});

Deno.test("an openapi upstream without the right token gets the service's 401 as an isError result", async () => {
  await using api = await startOpenApiFixture("s3cret");
  await using gw = await startGateway(
    `servers:\n  - name: pets\n    openapi: ${api.documentUrl}\n` +
      `    auth: {type: bearer, token_env: PETS_TOKEN}\n`,
    { PETS_TOKEN: "wrong" },
  );
  await waitFor(() => gw.gateway.catalog().size === 3, "the three operations as tools");
  await using client = await connectClient(gw.url);
  const denied = await client.request({
    method: "tools/call",
    params: { name: "pets__get_secret", arguments: {} },
  }, CallToolResultSchema);
  assert.equal(denied.isError, true);
  assert.equal(text(denied), `HTTP 401 Unauthorized: {"error":"unauthorized"}`);
  assert.equal(api.requests[0]!.headers.get("authorization"), "Bearer wrong");
});

Deno.test("an openapi upstream read from a YAML file calls the API at base_url", async () => {
  await using api = await startOpenApiFixture();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    // servers[0].url points nowhere: base_url must win.
    await Deno.writeTextFile(
      file,
      stringify({ ...petsDocument(), servers: [{ url: "http://192.0.2.1/v1" }] }),
    );
    await using gw = await startGateway(
      `servers:\n  - name: pets\n    openapi: ${file}\n    base_url: ${api.origin}/v1/\n`,
    );
    await waitFor(() => gw.gateway.catalog().size === 3, "the three operations as tools");
    const [entry] = gw.gateway.health().servers;
    assert.equal(entry!.openapi, file);
    assert.equal(entry!.base_url, `${api.origin}/v1/`);
    assert.equal("protocol" in entry!, false);
    await using client = await connectClient(gw.url);
    const found = await client.callTool({ name: "pets__getPet", arguments: { petId: "7" } });
    assert.deepEqual(found.structuredContent, { id: "7", name: "pet 7" });
    assert.equal(api.requests[0]!.target, "/v1/pets/7");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a bad OpenAPI document is the server's last_error in /health, naming server and problem", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ swagger: "2.0", paths: {} }));
    await using gw = await startGateway(
      `servers:\n  - name: legacy\n    openapi: ${file}\n`,
    );
    const lastError = async () => {
      const report = await (await fetch(`${gw.base}/health`)).json();
      return report.servers[0].last_error;
    };
    await waitFor(async () => (await lastError()) !== null, "a last_error");
    assert.equal(
      await lastError(),
      `Cannot load the OpenAPI document of upstream 'legacy' from '${file}': ` +
        "Swagger 2.0 documents are not supported (convert it to OpenAPI 3)",
    );
    assert.deepEqual(await listedToolNames(gw), []);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("an openapi upstream connects, lists and calls with nothing logged above info", async () => {
  await using api = await startOpenApiFixture();
  const lines: string[] = [];
  await using gateway = createGateway(
    parseConfig(
      `servers:\n  - name: pets\n    openapi: ${api.documentUrl}\n`,
      "t.yaml",
      () => undefined,
    ),
    {
      version: "t",
      log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }),
    },
  );
  const handler = (req: Request) => gateway.handler(req, {});
  await waitFor(() => gateway.catalog().size === 3, "the three operations as tools");
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION };
  const call = { name: "pets__getPet", arguments: { petId: "missing" } };
  const reply = await readJsonRpcReply(
    await postJsonRpc(
      handler,
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: call },
      headers,
    ),
    1,
  );
  assert.equal(reply.result?.isError, true);
  const logged = lines.map((line) => JSON.parse(line));
  assert.ok(
    logged.some((l) =>
      l.msg === "upstream connected" && l.transport === "openapi" && l.tools === 3
    ),
    "the connection is logged",
  );
  assert.deepEqual(logged.filter((l) => l.level === "warn" || l.level === "error"), []);
});
