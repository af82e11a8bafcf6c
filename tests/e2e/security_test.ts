import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient, initialize, postJsonRpc } from "../_support/client.ts";
import { gatewayOverTwo, startGateway, upstream } from "../_support/gateway.ts";
import { modernBody, modernHeaders } from "../_support/modern_rpc.ts";
import { waitFor } from "../_support/wait.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

function scopedGateway() {
  return gatewayOverTwo({
    head: `mcp:
  auth:
    mode: keys
    clients:
      - name: reader
        key_env: READER_KEY
        tools: { allow: ["a__*"], deny: ["a__fail", "a__add_tool"] }
        prompts: { allow: [], deny: [] }
        resources: { allow: ["a+*"] }
      - name: writer
        key_sha256: ${sha("writer-key")}
        tools: { allow: ["b__echo", "b__count"] }
        prompts: { allow: ["b__*"] }
        resources: { allow: [], deny: [] }
`,
    env: { READER_KEY: "reader-key" },
  });
}

Deno.test("two API-key clients see and can use exactly their own tools, prompts and resources", async () => {
  await using s = await scopedGateway();
  await using reader = await connectClient(s.gw.url, {
    headers: { authorization: "Bearer reader-key" },
  });
  await using writer = await connectClient(s.gw.url, {
    headers: { authorization: "Bearer writer-key" },
  });

  const readerTools = (await reader.listTools()).tools.map((t) => t.name);
  assert.ok(
    readerTools.length > 5 && readerTools.every((n) => n.startsWith("a__")),
    readerTools.join(","),
  );
  assert.ok(!readerTools.includes("a__fail") && !readerTools.includes("a__add_tool"));
  assert.deepEqual((await writer.listTools()).tools.map((t) => t.name), ["b__echo", "b__count"]);

  const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;
  assert.equal(text(await reader.callTool({ name: "a__echo", arguments: { text: "r" } })), "a:r");
  assert.equal(text(await writer.callTool({ name: "b__echo", arguments: { text: "w" } })), "b:w");
  for (
    const [client, name] of [[reader, "a__fail"], [reader, "b__echo"], [writer, "a__echo"], [
      writer,
      "b__add",
    ]] as const
  ) {
    await assert.rejects(
      client.callTool({ name, arguments: {} }),
      new RegExp(`-32602.*Unknown tool: '${name}'`),
      name,
    );
  }

  assert.deepEqual((await reader.listPrompts()).prompts, []);
  assert.deepEqual((await writer.listPrompts()).prompts.map((p) => p.name), [
    "b__cite",
    "b__greet",
  ]);
  await assert.rejects(
    reader.getPrompt({ name: "b__greet", arguments: { who: "x" } }),
    /Unknown prompt: 'b__greet'/,
  );

  assert.deepEqual((await reader.listResources()).resources.map((r) => r.uri), [
    "a+fixture://a/info",
  ]);
  assert.deepEqual((await writer.listResources()).resources, []);
  assert.deepEqual(
    (await reader.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
    ["a+fixture://a/items/{id}"],
  );
  await assert.rejects(
    writer.readResource({ uri: "a+fixture://a/info" }),
    /-32002.*Resource not found/,
  );
  const read = await reader.readResource({ uri: "a+fixture://a/info" });
  assert.equal((read.contents[0] as { text: string }).text, "a info");
});

Deno.test("a wrong or missing key is 401, and a session cannot be used by another client", async () => {
  await using s = await scopedGateway();
  for (
    const headers of [{}, { authorization: "Bearer nope" }, { authorization: "Basic cmVhZGVyOng=" }]
  ) {
    const res = await postJsonRpc(s.gw.url, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {},
    }, headers);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    await res.body?.cancel();
  }
  const { sessionId } = await initialize(s.gw.url, { authorization: "Bearer reader-key" });
  const stolen = await postJsonRpc(s.gw.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, {
    authorization: "Bearer writer-key",
    "mcp-session-id": sessionId,
  });
  assert.equal(stolen.status, 404, "another identity cannot use the session");
  await stolen.body?.cancel();
});

Deno.test("HTTP Basic users authenticate against password hashes; a full session cap evicts the least recently used idle session", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`mcp:
  auth:
    mode: basic
    users:
      - name: ana
        password_sha256: ${sha("correct horse")}
  limits:
    max_sessions_per_client: 2
servers:
${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;
  const denied = await postJsonRpc(gw.url, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {},
  }, { authorization: basic("ana", "wrong") });
  assert.equal(denied.status, 401);
  assert.match(denied.headers.get("www-authenticate")!, /^Basic realm="mcpstead"/);
  await denied.body?.cancel();
  const headers = { authorization: basic("ana", "correct horse") };
  const call = (sessionId: string, name: string, args: Record<string, unknown>) =>
    postJsonRpc(gw.url, {
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name, arguments: args },
    }, { ...headers, "mcp-session-id": sessionId, accept: "application/json" });
  const first = await initialize(gw.url, headers);
  const second = await initialize(gw.url, headers);
  await (await call(second.sessionId, "up__echo", { text: "x" })).body?.cancel();
  const third = await initialize(gw.url, headers);
  const gone = await call(first.sessionId, "up__echo", { text: "x" });
  assert.equal(gone.status, 404, "the least recently used session was ended");
  await gone.body?.cancel();
  const busy = [second, third].map(({ sessionId }) => call(sessionId, "up__slow", { ms: 1500 }));
  await waitFor(() => up.executions.get("slow") === 2);
  const refused = await postJsonRpc(gw.url, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {},
  }, headers);
  assert.equal(refused.status, 429);
  assert.match(
    (await refused.json()).error.message,
    /all 2 sessions of client 'ana' have calls in flight/,
  );
  await Promise.all(busy.map(async (res) => (await res).body?.cancel()));
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(
    metrics,
    /^mcpstead_downstream_session_terminations_total\{reason="evicted"\} 1$/m,
  );
});

Deno.test("a client's burst is rate limited with 429 and Retry-After without slowing another client", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`mcp:
  auth:
    mode: keys
    clients:
      - name: noisy
        key_sha256: ${sha("noisy")}
      - name: calm
        key_sha256: ${sha("calm")}
  rate_limit: { requests_per_second: 2, burst: 5 }
servers:
${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const noisy = { authorization: "Bearer noisy" };
  const calm = { authorization: "Bearer calm" };
  const noisySession = await initialize(gw.url, noisy);
  const calmSession = await initialize(gw.url, calm);
  const call = (headers: Record<string, string>, sessionId: string, i: number) =>
    postJsonRpc(gw.url, {
      jsonrpc: "2.0",
      id: i,
      method: "tools/call",
      params: { name: "up__echo", arguments: { text: `${i}` } },
    }, {
      ...headers,
      "mcp-session-id": sessionId,
      accept: "application/json",
    });
  const burst = await Promise.all(
    Array.from({ length: 20 }, (_, i) => call(noisy, noisySession.sessionId, i)),
  );
  const statuses = burst.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(","));
  assert.equal(statuses.filter((s) => s === 429).length, 15);
  const refused = burst.find((r) => r.status === 429)!;
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  const body = await refused.json();
  assert.equal(body.error.data.reason, "rate_limited");
  assert.match(body.error.message, /client 'noisy' is over its rate limit/);
  await Promise.all(burst.map((r) => r.bodyUsed ? undefined : r.body?.cancel()));
  const started = performance.now();
  const calmAnswers = await Promise.all(
    Array.from({ length: 5 }, (_, i) => call(calm, calmSession.sessionId, i)),
  );
  assert.deepEqual(calmAnswers.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.ok(performance.now() - started < 1000, "the calm client was not slowed");
  await Promise.all(calmAnswers.map((r) => r.body?.cancel()));
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /^mcpstead_rate_limited_total\{scope="client",name="noisy"\} 15$/m);
  assert.match(metrics, /^mcpstead_client_requests_total\{client="calm"\} 5$/m);
});

Deno.test("mcp.rate_limit holds per identity across eras: a 2026-07-28 request draws on the bucket the same key's session and REST calls emptied", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`mcp:
  auth:
    mode: keys
    clients:
      - name: noisy
        key_sha256: ${sha("noisy")}
  rate_limit: { requests_per_second: 0.5, burst: 3 }
servers:
${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const auth = { authorization: "Bearer noisy" };
  const session = await initialize(gw.url, auth);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await postJsonRpc(gw.url, {
      jsonrpc: "2.0",
      id: i,
      method: "tools/call",
      params: { name: "up__echo", arguments: { text: `${i}` } },
    }, { ...auth, "mcp-session-id": session.sessionId, accept: "application/json" });
    statuses.push(res.status);
    await res.body?.cancel();
  }
  const modern = await postJsonRpc(
    gw.url,
    modernBody({ id: 9, method: "tools/list" }),
    { ...modernHeaders({ id: 9, method: "tools/list" }), ...auth },
  );
  statuses.push(modern.status);
  const rest = await fetch(`${gw.base}/api/tools/up__echo`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ text: "r" }),
  });
  statuses.push(rest.status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.equal((await modern.json()).error.data.reason, "rate_limited");
  await rest.body?.cancel();
  // Both refusals are counted, whichever era or API asked.
  const metrics = await (await fetch(`${gw.base}/metrics`, { headers: auth })).text();
  assert.match(metrics, /^mcpstead_rate_limited_total\{scope="client",name="noisy"\} 2$/m);
});

Deno.test("mcp.allowed_origins enables CORS preflight for those origins only", async () => {
  await using gw = await startGateway("mcp:\n  allowed_origins: [https://app.example.com]\n");
  const preflight = (origin: string) =>
    fetch(gw.url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, mcp-session-id",
      },
    });
  const ok = await preflight("https://app.example.com");
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(ok.headers.get("access-control-allow-headers")!, /mcp-session-id/);
  assert.equal(ok.headers.get("access-control-allow-methods"), "POST, GET, DELETE");
  const foreign = await preflight("https://evil.example.com");
  assert.equal(foreign.status, 403);
  const res = await postJsonRpc(
    gw.url,
    { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
    { origin: "https://app.example.com" },
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(res.headers.get("access-control-expose-headers")!, /mcp-session-id/);
  await res.body?.cancel();
  const evil = await postJsonRpc(gw.url, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {},
  }, { origin: "https://evil.example.com" });
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get("access-control-allow-origin"), null);
  await evil.body?.cancel();
});

Deno.test("a reload that narrows a key's scopes ends that key's open sessions, and its new ones get the narrower scope; other keys' sessions live on", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const config = (readerTools: string) =>
    `mcp:
  auth:
    mode: keys
    clients:
      - name: reader
        key_sha256: ${sha("reader-key")}
        tools: { allow: ${readerTools} }
      - name: writer
        key_sha256: ${sha("writer-key")}
servers:
${upstream("up", up.url)}`;
  await using gw = await startGateway(config('["up__*"]'));
  await waitFor(() => gw.gateway.catalog().size > 0);
  const reader = { authorization: "Bearer reader-key" };
  const writer = { authorization: "Bearer writer-key" };
  const call = (headers: Record<string, string>, sessionId: string) =>
    postJsonRpc(gw.url, {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "up__echo", arguments: { text: "x" } },
    }, { ...headers, "mcp-session-id": sessionId, accept: "application/json" });
  const readerSession = await initialize(gw.url, reader);
  const writerSession = await initialize(gw.url, writer);
  assert.equal((await call(reader, readerSession.sessionId)).status, 200);

  gw.rewrite(config('["up__add"]'));
  const res = await fetch(`${gw.base}/-/reload`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(res.status, 401, "reload needs an admin");
  await res.body?.cancel();
  await gw.gateway.reload();

  const stale = await call(reader, readerSession.sessionId);
  assert.equal(stale.status, 404, "the session opened under the wider scope is ended");
  await stale.body?.cancel();
  const fresh = await initialize(gw.url, reader);
  const denied = await (await call(reader, fresh.sessionId)).json();
  assert.match(denied.error.message, /Unknown tool: 'up__echo'/);
  const kept = await call(writer, writerSession.sessionId);
  assert.equal(kept.status, 200, "an unchanged identity keeps its session");
  assert.match(JSON.stringify(await kept.json()), /up:x/);
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(
    metrics,
    /^mcpstead_downstream_session_terminations_total\{reason="auth_changed"\} 1$/m,
  );
});
