import assert from "node:assert/strict";
import { GatewayError, McpError } from "../../src/mcp/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { OpenApiTransport, type OpenApiTransportOptions } from "../../src/upstream/openapi.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import type { FetchLike } from "../../src/upstream/transport.ts";

const DOCUMENT_URL = "https://api.example.com/specs/openapi.json";

const DOCUMENT = {
  openapi: "3.1.0",
  info: { title: "Pets", version: "2.0", description: "Pets, as a service." },
  servers: [{ url: "/v1" }],
  paths: {
    "/pets/{id}": {
      get: {
        operationId: "getPet",
        parameters: [
          { name: "id", in: "path", required: true, schema: { type: "integer" } },
          { name: "X-Trace", in: "header", schema: { type: "string" } },
          { name: "X-Api-Key", in: "header", schema: { type: "string" } },
        ],
        responses: { "200": { description: "ok" } },
      },
    },
  },
};

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that serves DOCUMENT at DOCUMENT_URL and hands every other request to `api`. */
function fakeFetch(
  calls: Call[],
  api: (url: string, init: RequestInit) => Promise<Response> = () =>
    Promise.resolve(new Response("ok")),
): FetchLike {
  return (url, init) => {
    if (url === DOCUMENT_URL) return Promise.resolve(Response.json(DOCUMENT));
    calls.push({ url, init });
    return api(url, init);
  };
}

function connect(options: Partial<OpenApiTransportOptions>, timeoutMs = 1000) {
  const transport = new OpenApiTransport({
    server: "api",
    document: DOCUMENT_URL,
    headers: { "x-api-key": "k3y" },
    userAgent: "mcpstead/test",
    log: silentLogger,
    ...options,
  });
  const client = new RpcClient({
    server: "api",
    transport,
    clientInfo: { name: "t", version: "0" },
    log: silentLogger,
    timeoutMs,
  });
  return { client, transport };
}

Deno.test("OpenApiTransport answers initialize, ping and tools/list itself, and -32601 for other methods", async () => {
  const calls: Call[] = [];
  const { client } = connect({ fetch: fakeFetch(calls) });
  const init = await client.connect();
  assert.equal(init.protocolVersion, "2025-11-25");
  assert.deepEqual(init.capabilities, { tools: {} });
  assert.deepEqual(init.serverInfo, { name: "Pets", version: "2.0" });
  assert.equal(init.instructions, "Pets, as a service.");
  assert.deepEqual(await client.request("ping", undefined, { timeoutMs: 1000 }), {});
  const { tools } = await client.request("tools/list", undefined, { timeoutMs: 1000 });
  assert.deepEqual((tools as Array<{ name: string }>).map((t) => t.name), ["getPet"]);
  for (const method of ["prompts/list", "resources/list"]) {
    await assert.rejects(client.request(method, undefined, { timeoutMs: 1000 }), (error) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32601);
      assert.equal(error.message, `Method not found: '${method}'`);
      return true;
    });
  }
  await assert.rejects(
    client.request("tools/call", { name: "nope" }, { timeoutMs: 1000 }),
    { name: "McpError", code: -32602, message: "Unknown tool: 'nope'" },
  );
  assert.deepEqual(calls, [], "nothing but the document went over the network");
  await client.close();
});

Deno.test("OpenApiTransport calls the API relative to the document, with the configured headers and no redirects", async () => {
  const calls: Call[] = [];
  const { client } = connect({
    fetch: fakeFetch(calls, () => Promise.resolve(new Response("pet 7"))),
  });
  await client.connect();
  const result = await client.request(
    "tools/call",
    { name: "getPet", arguments: { id: 7, "X-Trace": "t-1", "X-Api-Key": "caller's" } },
    { timeoutMs: 1000 },
  );
  assert.deepEqual(result, { content: [{ type: "text", text: "pet 7" }] });
  assert.equal(calls.length, 1);
  const [{ url, init }] = calls as [Call];
  assert.equal(url, "https://api.example.com/v1/pets/7");
  assert.equal(init.method, "GET");
  assert.equal(init.redirect, "manual");
  assert.deepEqual(init.headers, {
    accept: "application/json, */*;q=0.5",
    "user-agent": "mcpstead/test",
    "x-trace": "t-1",
    "x-api-key": "k3y",
  });
  const missing = await client.request("tools/call", { name: "getPet", arguments: {} }, {
    timeoutMs: 1000,
  });
  assert.deepEqual(missing, {
    content: [{ type: "text", text: "Cannot call 'getPet': missing required argument 'id'" }],
    isError: true,
  });
  await client.close();
});

Deno.test("OpenApiTransport reports an unreachable API as upstream_unreachable and aborts calls on deadline and close", async () => {
  const signals: AbortSignal[] = [];
  let refuse = true;
  const hang = (_url: string, init: RequestInit) => {
    signals.push(init.signal!);
    if (refuse) return Promise.reject(new TypeError("connection refused"));
    return new Promise<Response>((_, reject) =>
      init.signal!.addEventListener("abort", () => reject(init.signal!.reason))
    );
  };
  const { client } = connect({ fetch: fakeFetch([], hang) });
  await client.connect();
  const call = (timeoutMs: number) =>
    client.request("tools/call", { name: "getPet", arguments: { id: 1 } }, { timeoutMs });
  await assert.rejects(call(1000), (error) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_unreachable");
    assert.equal(error.message, "Cannot reach upstream 'api': connection refused");
    return true;
  });
  refuse = false;
  await assert.rejects(call(20), { name: "GatewayError", code: "upstream_timeout" });
  assert.equal(signals[1]!.aborted, true, "the deadline aborted the HTTP request");
  const pending = call(60_000);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await client.close();
  await assert.rejects(pending, { name: "GatewayError", code: "upstream_closed" });
  assert.equal(signals[2]!.aborted, true, "closing aborted the HTTP request");
});

Deno.test("OpenApiTransport names the server and the document when the document cannot be used", async () => {
  const failure = async (options: Partial<OpenApiTransportOptions>, message: string) => {
    const { client } = connect(options);
    await assert.rejects(client.connect(), (error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.message, message);
      return true;
    });
    await client.close();
  };
  await failure(
    {
      document: "https://user:pw@api.example.com/openapi.json?key=s3cret",
      fetch: () => Promise.resolve(new Response("gone", { status: 404, statusText: "Not Found" })),
    },
    "Cannot load the OpenAPI document of upstream 'api' from " +
      "'https://***@api.example.com/openapi.json?key=***': HTTP 404 Not Found",
  );
  await failure(
    {
      document: "specs/api.yaml",
      readTextFile: () => Promise.reject(new Deno.errors.NotFound("No such file or directory")),
    },
    "Cannot load the OpenAPI document of upstream 'api' from 'specs/api.yaml': " +
      "No such file or directory",
  );
  await failure(
    {
      document: "/srv/api.yaml",
      readTextFile: () =>
        Promise.resolve(
          "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/nope'}]\n",
        ),
    },
    "Cannot load the OpenAPI document of upstream 'api' from '/srv/api.yaml': " +
      "GET /a: $ref '#/nope' does not resolve",
  );
  await failure(
    {
      document: "/srv/api.yaml",
      readTextFile: () => Promise.resolve("openapi: 3.1.0\nservers: [{url: /v1}]\n"),
    },
    "Cannot load the OpenAPI document of upstream 'api' from '/srv/api.yaml': " +
      "servers[0].url '/v1' gives no http: or https: URL relative to the document (set base_url)",
  );
});

Deno.test("OpenApiTransport follows no redirect of its document, and names where one points", async () => {
  const inits: RequestInit[] = [];
  const { client } = connect({
    fetch: (_url, init) => {
      inits.push(init);
      return Promise.resolve(
        new Response(null, { status: 301, headers: { location: "https://cdn.example/d?sig=s1" } }),
      );
    },
  });
  await assert.rejects(client.connect(), {
    name: "GatewayError",
    message: "Cannot load the OpenAPI document of upstream 'api' from " +
      `'${DOCUMENT_URL}': HTTP 301 (a redirect to 'https://cdn.example/d?sig=***', not followed)`,
  });
  assert.deepEqual(inits.map((init) => init.redirect), ["manual"]);
  await client.close();
});
