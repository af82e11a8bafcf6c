import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startRawFixture } from "../fixtures/raw_server.ts";
import { gatewayOverTwo, startGateway, untilHealthy, upstream } from "../_support/gateway.ts";
import { waitFor } from "../_support/wait.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function gatewayOver(mcp: string, env: Record<string, string> = {}, aExtra = "") {
  const s = await gatewayOverTwo({ head: `mcp:\n${mcp}\n`, env, aExtra });
  const post = (
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ) =>
    fetch(`${s.gw.base}${path}`, {
      method: "POST",
      ...(signal ? { signal } : {}),
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  return Object.assign(s, { post });
}

const texts = (result: { content?: Array<{ text?: string }> }) =>
  (result.content ?? []).map((c) => c.text);

Deno.test("REST: a tool runs by qualified name or by server and tool; tool errors are 422, unknown tools 404", async () => {
  await using s = await gatewayOver("  page_size: 100");
  let res = await s.post("/api/tools/a__echo", { text: "hi" });
  assert.equal(res.status, 200);
  assert.deepEqual(texts(await res.json()), ["a:hi"]);

  res = await s.post("/api/b/echo", { text: "there" });
  assert.equal(res.status, 200);
  assert.deepEqual(texts(await res.json()), ["b:there"]);

  res = await s.post("/api/tools/a__add", { a: 2, b: 3 });
  assert.deepEqual((await res.json()).structuredContent, { sum: 5 });

  res = await s.post("/api/tools/a__fail", {});
  assert.equal(res.status, 422);
  const failed = await res.json();
  assert.equal(failed.isError, true);
  assert.deepEqual(texts(failed), ["fail: requested"]);

  res = await s.post("/api/tools/a__ecko", { text: "x" });
  assert.equal(res.status, 404);
  const unknown = await res.json();
  assert.match(unknown.error.message, /Unknown tool: 'a__ecko'/);
  assert.ok(unknown.error.did_you_mean.includes("a__echo"));

  res = await s.post("/api/c/echo", {});
  assert.equal(res.status, 404);
  await res.body?.cancel();

  res = await s.post("/api/tools/a__echo", "[1, 2]");
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /JSON object of the tool's arguments/);

  res = await s.post("/api/tools/a__echo", "{not json");
  assert.equal(res.status, 400);
  await res.body?.cancel();

  // The SDK upstream answers arguments that fail its schema with a tool error result: 422.
  res = await s.post("/api/tools/a__echo", { text: 42 });
  assert.equal(res.status, 422);
  const invalid = await res.json();
  assert.equal(invalid.isError, true);
  assert.match(texts(invalid)[0]!, /Input validation error: Invalid arguments for tool echo/);

  res = await fetch(`${s.gw.base}/api/tools/a__echo`);
  assert.equal(res.status, 405);
  await res.body?.cancel();
});

/**
 * Sends `head` (request line and headers, no body) on a raw socket, as curl does, and returns the
 * status and the body (de-chunked when the answer is chunked).
 */
async function rawRequest(base: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  using conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(
    new TextEncoder().encode(`${head}Host: ${hostname}:${port}\r\nConnection: close\r\n\r\n`),
  );
  const text = await new Response(conn.readable).text();
  const split = text.indexOf("\r\n\r\n");
  const [headers, body] = [text.slice(0, split), text.slice(split + 4)];
  const status = Number(headers.split(" ")[1]);
  if (!/^transfer-encoding: chunked$/im.test(headers)) return { status, body };
  let out = "";
  for (let at = 0;;) {
    const end = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, end), 16);
    if (!(size > 0)) return { status, body: out };
    out += body.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
}

Deno.test("REST: a POST with no body and no Content-Length (curl -X POST) runs the tool with no arguments", async () => {
  await using s = await gatewayOver("  page_size: 100");
  const res = await rawRequest(s.gw.base, "POST /api/tools/a__count HTTP/1.1\r\n");
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(JSON.parse(res.body), { content: [{ type: "text", text: "1" }] });
  const declared = await rawRequest(
    s.gw.base,
    "POST /api/tools/a__count HTTP/1.1\r\nContent-Length: 0\r\n",
  );
  assert.equal(declared.status, 200, declared.body);
  assert.deepEqual(JSON.parse(declared.body), { content: [{ type: "text", text: "2" }] });
});

Deno.test("REST: arguments an upstream rejects with JSON-RPC -32602 are a 400 with its error", async () => {
  await using raw = await startRawFixture("error");
  await using gw = await startGateway(`servers:\n${upstream("raw", raw.url)}`);
  await untilHealthy(gw);
  const res = await fetch(`${gw.base}/api/tools/raw__t`, { method: "POST", body: "{}" });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).error, {
    code: -32602,
    message: "bad arguments",
    data: { detail: "x" },
  });
});

Deno.test("REST: 50 concurrent callers each get their own result", async () => {
  await using s = await gatewayOver("  page_size: 100");
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const res = i % 2 === 0
        ? await s.post("/api/tools/a__echo", { text: `caller-${i}` })
        : await s.post("/api/tools/b__add", { a: i, b: 1000 });
      return { i, status: res.status, body: await res.json() };
    }),
  );
  for (const { i, status, body } of results) {
    assert.equal(status, 200);
    if (i % 2 === 0) assert.deepEqual(texts(body), [`a:caller-${i}`]);
    else assert.deepEqual(body.structuredContent, { sum: i + 1000 });
  }
});

Deno.test("REST: an upstream that does not answer in time gives 504", async () => {
  await using s = await gatewayOver("  page_size: 100", {}, "    timeout: 0.3\n");
  const res = await s.post("/api/tools/a__slow", { ms: 3_000 });
  assert.equal(res.status, 504);
  const body = await res.json();
  assert.equal(body.error.data.reason, "upstream_timeout");
  assert.equal(body.error.data.server, "a");
});

Deno.test("REST: a client that hangs up cancels its upstream call", async () => {
  await using s = await gatewayOver("  page_size: 100");
  const controller = new AbortController();
  const call = s.post("/api/tools/a__slow", { ms: 5_000 }, {}, controller.signal).then(
    () => "answered",
    () => "hung up",
  );
  await waitFor(() => s.a.executions.get("slow") === 1, "the call to start");
  controller.abort();
  assert.equal(await call, "hung up");
  await waitFor(() => s.a.aborted === 1, "upstream a to stop the call");
});

Deno.test("REST and /openapi.json: auth and scopes apply, and the document is valid OpenAPI 3.1", async () => {
  await using s = await gatewayOver(
    `  auth:
    mode: keys
    clients:
      - name: reader
        key_sha256: ${sha("reader-key")}
        tools: { allow: ["a__echo", "a__add"] }
      - name: admin
        key_sha256: ${sha("admin-key")}`,
  );
  const reader = { authorization: "Bearer reader-key" };

  let res = await s.post("/api/tools/a__echo", { text: "x" });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  await res.body?.cancel();

  res = await s.post("/api/tools/b__echo", { text: "x" }, reader);
  assert.equal(res.status, 404, "a tool outside the caller's scopes looks unknown");
  await res.body?.cancel();

  res = await s.post("/api/tools/a__echo", { text: "scoped" }, reader);
  assert.equal(res.status, 200);
  assert.deepEqual(texts(await res.json()), ["a:scoped"]);

  res = await fetch(`${s.gw.base}/openapi.json`);
  assert.equal(res.status, 401);
  await res.body?.cancel();

  const readerDoc = await (await fetch(`${s.gw.base}/openapi.json`, { headers: reader })).json();
  assert.deepEqual(Object.keys(readerDoc.paths).sort(), [
    "/api/tools/a__add",
    "/api/tools/a__echo",
  ]);
  assert.deepEqual(readerDoc.components.securitySchemes.gateway, {
    type: "http",
    scheme: "bearer",
  });
  const add = readerDoc.paths["/api/tools/a__add"].post;
  assert.equal(add.operationId, "a__add");
  assert.deepEqual(add.tags, ["a"]);
  assert.deepEqual(add.requestBody.content["application/json"].schema.required, ["a", "b"]);
  const ok = add.responses["200"].content["application/json"].schema;
  assert.equal(ok.properties.structuredContent.properties.sum.type, "number");

  const adminDoc = await (
    await fetch(`${s.gw.base}/openapi.json`, { headers: { authorization: "Bearer admin-key" } })
  ).json();
  assert.ok(Object.keys(adminDoc.paths).length > 20);

  for (const doc of [readerDoc, adminDoc]) {
    const verdict = await new Validator().validate(doc);
    assert.equal(verdict.valid, true, JSON.stringify(verdict.errors));
    assert.equal(doc.openapi, "3.1.0");
  }
});

Deno.test("REST: the caller's rate limit answers 429 with Retry-After", async () => {
  await using s = await gatewayOver("  rate_limit: { requests_per_second: 1, burst: 2 }");
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await s.post("/api/tools/a__echo", { text: "x" });
    statuses.push(res.status);
    if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses.slice(0, 2), [200, 200]);
  assert.ok(statuses.slice(2).includes(429), `statuses ${statuses}`);
});

Deno.test("REST without auth: the rate limit holds per address, whatever port each connection uses", async () => {
  await using s = await gatewayOver("  rate_limit: { requests_per_second: 1, burst: 2 }");
  const statuses = [];
  for (let port = 40_000; port < 40_004; port++) {
    const res = await s.gw.gateway.handler(
      new Request("http://127.0.0.1:8766/api/tools/a__echo", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"text":"x"}',
      }),
      { remoteAddr: `10.1.2.3:${port}` },
    );
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 429, 429]);
  const other = await s.gw.gateway.handler(
    new Request("http://127.0.0.1:8766/api/tools/a__echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"text":"x"}',
    }),
    { remoteAddr: "10.9.9.9:40000" },
  );
  assert.equal(other.status, 200, "another address has its own bucket");
  await other.body?.cancel();
});
