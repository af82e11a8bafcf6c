import assert from "node:assert/strict";
import { createDispatcher, type Dispatcher } from "../../src/core/dispatcher.ts";
import { SseChannel } from "../../src/downstream/sse_channel.ts";
import { createMcpEndpoint } from "../../src/downstream/mcp_endpoint.ts";
import { createSessionEndpoint } from "../../src/downstream/session_endpoint.ts";
import { createModernEndpoint } from "../../src/downstream/modern_endpoint.ts";
import { Listeners } from "../../src/downstream/listen.ts";
import { InputFlows } from "../../src/core/input_flows.ts";
import { RequestStateCodec } from "../../src/core/request_state.ts";
import { OUTBOX_LIMIT, sendUnsolicited, SessionStore } from "../../src/downstream/sessions.ts";
import { type Authenticator, bearerAuthenticator, type Identity } from "../../src/http/auth.ts";
import { createOriginGuard } from "../../src/http/origin.ts";
import { createRouter } from "../../src/http/router.ts";
import { silentLogger } from "../../src/log.ts";
import { negotiateVersion } from "../../src/mcp/protocol.ts";
import { Catalog } from "../../src/upstream/catalog.ts";
import { Subscriptions } from "../../src/core/subscriptions.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { type Handler, initialize, postJsonRpc, readSseEvents } from "../_support/client.ts";
import { waitFor } from "../_support/wait.ts";

interface Setup {
  dispatcher?: Dispatcher;
  token?: string;
  authenticate?: Authenticator;
  accepting?: () => boolean;
  maxBodyBytes?: number;
  maxInitializeBytes?: number;
  maxSessions?: number;
  maxSessionsPerClient?: number;
  unusedTtlMs?: number;
  streamBufferBytes?: number;
}

function setup(options: Setup = {}) {
  const clock = new FakeClock();
  const sessions = new SessionStore({
    clock,
    idleTtlMs: 60_000,
    unusedTtlMs: options.unusedTtlMs ?? 60_000,
    log: silentLogger,
  });
  const dispatcher = options.dispatcher ?? createDispatcher({
    upstreams: { catalog: () => new Catalog(), supervisors: () => [], supervisor: () => undefined },
    subscriptions: new Subscriptions(),
    sessionLogLevels: () => [],
    serverInfo: { name: "mcpstead", version: "test" },
    pageSize: 10,
  });
  const maxBodyBytes = options.maxBodyBytes ?? 4096;
  const session = createSessionEndpoint({
    sessions,
    dispatcher,
    caps: { perClient: options.maxSessionsPerClient ?? 0, total: options.maxSessions ?? 1000 },
    maxInitializeBytes: Math.min(maxBodyBytes, options.maxInitializeBytes ?? 4096),
    streamBufferBytes: options.streamBufferBytes ?? 1 << 20,
    maxBatchSize: 3,
    keepAliveMs: 60_000,
    log: silentLogger,
    accepting: options.accepting ?? (() => true),
  });
  const modern = createModernEndpoint({
    dispatcher,
    flows: new InputFlows({
      codec: new RequestStateCodec(RequestStateCodec.randomKey()),
      clock,
      node: "test",
      ttlMs: 60_000,
      maxFlows: 10,
      maxFlowsPerPrincipal: 10,
    }),
    listeners: new Listeners({ max: 10, maxPerPrincipal: 10 }),
    serverInfo: { name: "mcpstead", version: "test" },
    supportedVersions: ["2026-07-28", "2025-11-25"],
    cacheHints: () => ({ ttlMs: 0, cacheScope: "public" }),
    toolSchema: () => undefined,
    streamBufferBytes: options.streamBufferBytes ?? 1 << 20,
    keepAliveMs: 60_000,
    log: silentLogger,
  });
  const endpoint = createMcpEndpoint({
    admission: {
      guard: createOriginGuard({ bindHost: "127.0.0.1", allowedHosts: [], allowedOrigins: [] }),
      authenticate: options.authenticate ??
        (options.token ? bearerAuthenticator(options.token) : undefined),
      maxHeaderBytes: 4096,
    },
    bodyLimits: { maxBodyBytes, maxJsonDepth: 8, maxJsonValues: 1000, bodyTimeoutMs: 1000 },
    maxInitializeBytes: options.maxInitializeBytes ?? 4096,
    session,
    modern,
  });
  const handler = createRouter({
    "/mcp": { POST: endpoint.post, GET: endpoint.get, DELETE: endpoint.delete },
  });
  return { clock, sessions, handler: (req: Request) => handler(req, {}) };
}

const rpc = (id: number, method: string, params?: unknown) => ({
  jsonrpc: "2.0",
  id,
  method,
  ...(params ? { params } : {}),
});

Deno.test("POST initialize answers JSON with an unguessable session id and negotiates the version", async () => {
  const { handler, sessions } = setup();
  const res = await postJsonRpc(
    handler,
    rpc(1, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "c" },
    }),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.match(res.headers.get("mcp-session-id")!, /^[0-9a-f-]{36}$/);
  const body = await res.json();
  assert.deepEqual(body.result, {
    protocolVersion: "2025-06-18",
    capabilities: { tools: { listChanged: true }, logging: {} },
    serverInfo: { name: "mcpstead", version: "test" },
  });
  assert.equal(sessions.size, 1);
  const other = await postJsonRpc(handler, rpc(1, "initialize", { protocolVersion: "banana" }));
  assert.equal((await other.json()).result.protocolVersion, "2025-11-25");
  assert.notEqual(other.headers.get("mcp-session-id"), res.headers.get("mcp-session-id"));
});

Deno.test("POST without a session is 400, with an unknown one 404, with a bad protocol version 400", async () => {
  const { handler } = setup();
  const missing = await postJsonRpc(handler, rpc(1, "ping"));
  assert.equal(missing.status, 400);
  assert.match((await missing.json()).error.message, /Mcp-Session-Id header is required/);
  const unknown = await postJsonRpc(handler, rpc(1, "ping"), { "mcp-session-id": "nope" });
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, -32001);
  const { sessionId } = await initialize(handler);
  const bad = await postJsonRpc(handler, rpc(1, "ping"), {
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "1999-01-01",
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("POST ping answers {} and an unknown method -32601", async () => {
  const { handler } = setup();
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" };
  assert.deepEqual(await (await postJsonRpc(handler, rpc(7, "ping"), headers)).json(), {
    jsonrpc: "2.0",
    id: 7,
    result: {},
  });
  const unknown =
    await (await postJsonRpc(handler, rpc("x" as unknown as number, "resources/nope"), headers))
      .json();
  assert.deepEqual(unknown, {
    jsonrpc: "2.0",
    id: "x",
    error: { code: -32601, message: "Method not found: 'resources/nope'" },
  });
});

Deno.test("POST answers 202 with no body to a notification and to a client response", async () => {
  const { handler } = setup();
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId };
  for (
    const message of [{ jsonrpc: "2.0", method: "notifications/roots/list_changed" }, {
      jsonrpc: "2.0",
      id: 3,
      result: {},
    }]
  ) {
    const res = await postJsonRpc(handler, message, headers);
    assert.equal(res.status, 202);
    assert.equal(await res.text(), "");
  }
});

Deno.test("POST rejects bad input with the right status and a JSON-RPC error body", async () => {
  const { handler } = setup();
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId };
  const cases: Array<[unknown, Record<string, string>, number, number]> = [
    ["{not json", headers, 400, -32700],
    [new Uint8Array([0x7b, 0xff, 0x7d]) as Uint8Array<ArrayBuffer>, headers, 400, -32700],
    [{ jsonrpc: "1.0", id: 1, method: "ping" }, headers, 400, -32600],
    [{ jsonrpc: "2.0", id: null, method: "ping" }, headers, 400, -32600],
    [rpc(1, "ping"), { ...headers, "content-type": "text/plain" }, 415, -32600],
    [rpc(1, "ping"), { ...headers, accept: "text/html" }, 406, -32600],
    ["x".repeat(5000), headers, 413, -32600],
  ];
  for (const [body, h, status, code] of cases) {
    const res = body instanceof Uint8Array
      ? await handler(
        new Request("http://127.0.0.1/mcp", {
          method: "POST",
          body: body as Uint8Array<ArrayBuffer>,
          headers: { "content-type": "application/json", ...h },
        }),
      )
      : await postJsonRpc(handler, body, h);
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 40));
    const json = await res.json();
    assert.equal(json.error.code, code);
    assert.equal(json.id, null);
  }
});

Deno.test("POST refuses a foreign Origin or Host with 403 (DNS rebinding)", async () => {
  const { handler } = setup();
  const res = await handler(
    new Request("http://evil.example.com/mcp", {
      method: "POST",
      headers: {
        host: "evil.example.com",
        origin: "http://evil.example.com",
        "content-type": "application/json",
      },
      body: JSON.stringify(rpc(1, "initialize", {})),
    }),
  );
  assert.equal(res.status, 403);
  await res.body?.cancel();
  const foreignOrigin = await postJsonRpc(handler, rpc(1, "initialize", {}), {
    origin: "https://attacker.example",
  });
  assert.equal(foreignOrigin.status, 403);
  await foreignOrigin.body?.cancel();
});

Deno.test("bearer auth answers 401 with WWW-Authenticate and lets the right token in", async () => {
  const { handler } = setup({ token: "t0k" });
  const denied = await postJsonRpc(handler, rpc(1, "initialize", {}), {
    authorization: "Bearer wrong",
  });
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), "Bearer");
  assert.equal(await denied.text(), "");
  const ok = await postJsonRpc(handler, rpc(1, "initialize", {}), { authorization: "Bearer t0k" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("initialize during shutdown gets 503", async () => {
  const { handler } = setup({ accepting: () => false });
  const res = await postJsonRpc(handler, rpc(1, "initialize", {}));
  assert.equal(res.status, 503);
  await res.body?.cancel();
});

Deno.test("a client that accepts only SSE gets one event with the answer", async () => {
  const { handler } = setup();
  const res = await postJsonRpc(handler, rpc(1, "initialize", {}), { accept: "text/event-stream" });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const events = await readSseEvents(res);
  assert.equal(events.length, 1);
  assert.equal(JSON.parse(events[0]!.data).result.serverInfo.name, "mcpstead");
});

/** A dispatcher whose `wait` runs until cancelled; each `wait` call's signal goes to `waiting`. */
function streamingDispatcher(waiting: AbortSignal[] = []): Dispatcher {
  return {
    initialize: (params) => ({
      protocolVersion: negotiateVersion(params.protocolVersion),
      capabilities: {},
      serverInfo: { name: "t", version: "0" },
    }),
    tools: () => [],
    mayCall: () => false,
    serverOf: () => undefined,
    servers: () => [],
    upstreamEra: () => undefined,
    async handle(method, params, context) {
      if (method === "notify") {
        context.notify({
          jsonrpc: "2.0",
          method: "notifications/progress",
          params: { progressToken: "p", progress: 1 },
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { done: true };
      }
      if (method === "big") return { text: "b".repeat(1_500_000) };
      if (method === "flood") {
        for (let i = 0; i < 100; i++) {
          context.notify({
            jsonrpc: "2.0",
            method: "notifications/progress",
            params: { progressToken: "p", progress: i, message: "m".repeat(200) },
          });
        }
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        return { aborted: context.signal.aborted };
      }
      if (method === "wait") {
        waiting.push(context.signal);
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        return { aborted: context.signal.aborted };
      }
      return { echo: params ?? null };
    },
    notification() {},
  };
}

Deno.test("a request that notifies before its result is answered as an SSE stream, in order", async () => {
  const { handler } = setup({ dispatcher: streamingDispatcher() });
  const { sessionId } = await initialize(handler);
  const res = await postJsonRpc(handler, rpc(5, "notify"), { "mcp-session-id": sessionId });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const messages = (await readSseEvents(res)).map((e) => JSON.parse(e.data));
  assert.deepEqual(messages, [
    {
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: "p", progress: 1 },
    },
    { jsonrpc: "2.0", id: 5, result: { done: true } },
  ]);
});

Deno.test("notifications/cancelled aborts the matching in-flight request of that session only", async () => {
  const waiting: AbortSignal[] = [];
  const { handler } = setup({ dispatcher: streamingDispatcher(waiting) });
  const { sessionId } = await initialize(handler);
  const pending = postJsonRpc(handler, rpc(9, "wait"), { "mcp-session-id": sessionId });
  await waitFor(() => waiting.length === 1, "the request to be in flight");
  const other = await initialize(handler);
  const foreign = await postJsonRpc(handler, {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 9 },
  }, { "mcp-session-id": other.sessionId });
  assert.equal(foreign.status, 202, "the notification was handled");
  assert.equal(waiting[0]!.aborted, false, "another session cannot cancel it");
  await postJsonRpc(handler, {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 9 },
  }, { "mcp-session-id": sessionId });
  assert.deepEqual((await (await pending).json()).result, { aborted: true });
});

Deno.test("batches are refused in 2025-11-25 sessions and answered in order in 2025-03-26 ones", async () => {
  const { handler } = setup({ dispatcher: streamingDispatcher() });
  const modern = await initialize(handler);
  const refused = await postJsonRpc(handler, [rpc(1, "a")], { "mcp-session-id": modern.sessionId });
  assert.equal(refused.status, 400);
  await refused.body?.cancel();
  const init = await postJsonRpc(handler, rpc(1, "initialize", { protocolVersion: "2025-03-26" }));
  const legacy = init.headers.get("mcp-session-id")!;
  await init.body?.cancel();
  const res = await postJsonRpc(handler, [
    rpc(1, "a", { n: 1 }),
    { jsonrpc: "2.0", method: "notifications/x" },
    rpc(2, "b", { n: 2 }),
    7,
  ], { "mcp-session-id": legacy });
  await res.body?.cancel();
  assert.equal(res.status, 400, "over the batch size of 3");
  const ok = await postJsonRpc(handler, [rpc(1, "a", { n: 1 }), {
    jsonrpc: "2.0",
    method: "notifications/x",
  }, rpc(2, "b", { n: 2 })], { "mcp-session-id": legacy });
  assert.deepEqual(await ok.json(), [
    { jsonrpc: "2.0", id: 1, result: { echo: { n: 1 } } },
    { jsonrpc: "2.0", id: 2, result: { echo: { n: 2 } } },
  ]);
  const empty = await postJsonRpc(handler, [], { "mcp-session-id": legacy });
  assert.equal(empty.status, 400);
  await empty.body?.cancel();
});

Deno.test("GET opens one SSE stream per session; a second is 409; DELETE ends the session", async () => {
  const { handler, sessions } = setup();
  const { sessionId } = await initialize(handler);
  const get = () =>
    handler(
      new Request("http://127.0.0.1/mcp", {
        headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
      }),
    );
  const stream = await get();
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get("content-type"), "text/event-stream");
  const second = await get();
  assert.equal(second.status, 409);
  await second.body?.cancel();
  const noAccept = await handler(
    new Request("http://127.0.0.1/mcp", {
      headers: { accept: "application/json", "mcp-session-id": sessionId },
    }),
  );
  assert.equal(noAccept.status, 406);
  await noAccept.body?.cancel();
  const del = await handler(
    new Request("http://127.0.0.1/mcp", {
      method: "DELETE",
      headers: { "mcp-session-id": sessionId },
    }),
  );
  assert.equal(del.status, 204);
  assert.deepEqual(await readSseEvents(stream), [], "the stream ended with the session");
  assert.equal(sessions.size, 0);
  const again = await handler(
    new Request("http://127.0.0.1/mcp", {
      method: "DELETE",
      headers: { "mcp-session-id": sessionId },
    }),
  );
  assert.equal(again.status, 404);
  await again.body?.cancel();
  const after = await postJsonRpc(handler, rpc(1, "ping"), { "mcp-session-id": sessionId });
  assert.equal(after.status, 404);
  await after.body?.cancel();
});

Deno.test("SessionStore.sweep() evicts idle sessions but keeps active and streaming ones", async () => {
  const { handler, sessions, clock } = setup();
  const idle = await initialize(handler);
  const active = await initialize(handler);
  const streaming = await initialize(handler);
  const stream = await handler(
    new Request("http://127.0.0.1/mcp", {
      headers: { accept: "text/event-stream", "mcp-session-id": streaming.sessionId },
    }),
  );
  await clock.advance(50_000);
  await (await postJsonRpc(handler, rpc(1, "ping"), { "mcp-session-id": active.sessionId })).body
    ?.cancel();
  await clock.advance(20_000);
  assert.equal(sessions.sweep(), 1);
  const gone = await postJsonRpc(handler, rpc(1, "ping"), { "mcp-session-id": idle.sessionId });
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
  assert.equal(sessions.size, 2);
  await stream.body?.cancel();
});

Deno.test("SessionStore.runGc() sweeps on its interval and stops on abort", async () => {
  const { handler, sessions, clock } = setup();
  await initialize(handler);
  const stop = new AbortController();
  const loop = sessions.runGc(30_000, stop.signal);
  await clock.advance(61_000);
  assert.equal(sessions.size, 1, "not idle for longer than 60 s at the sweep at 60 s");
  await clock.advance(30_000);
  assert.equal(sessions.size, 0);
  stop.abort();
  await loop;
  assert.equal(clock.sleepers, 0);
});

Deno.test("sendUnsolicited() keeps messages until the session opens its GET stream, bounded", async () => {
  const { handler, sessions } = setup();
  const { sessionId } = await initialize(handler);
  const session = [...sessions.values()][0]!;
  for (let i = 0; i < OUTBOX_LIMIT + 2; i++) {
    sendUnsolicited(session, JSON.stringify({ jsonrpc: "2.0", method: "n", params: { i } }));
  }
  const stream = await handler(
    new Request("http://127.0.0.1/mcp", {
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
    }),
  );
  const events = await readSseEvents(stream, OUTBOX_LIMIT);
  assert.equal(events.length, OUTBOX_LIMIT);
  assert.deepEqual(JSON.parse(events[0]!.data).params, { i: 2 }, "the two oldest were dropped");
  assert.equal(session.outbox.length, 0);
});

Deno.test("POST refuses deep nesting (400), huge headers (431) and a body that arrives too slowly (408)", async () => {
  const { handler } = setup();
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId };
  let deep: unknown = 1;
  for (let i = 0; i < 20; i++) deep = [deep];
  const nested = await postJsonRpc(handler, {
    jsonrpc: "2.0",
    id: 1,
    method: "ping",
    params: { deep },
  }, headers);
  assert.equal(nested.status, 400);
  assert.match((await nested.json()).error.message, /nested deeper than 8 levels/);
  const huge = await postJsonRpc(handler, rpc(1, "ping"), {
    ...headers,
    "x-padding": "x".repeat(5000),
  });
  assert.equal(huge.status, 431);
  await huge.body?.cancel();
  const trickle = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0",'));
    },
  });
  const slow = await handler(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      body: trickle,
      headers: { "content-type": "application/json", "mcp-session-id": sessionId },
    }),
  );
  assert.equal(slow.status, 408);
  await slow.body?.cancel();
});

Deno.test("an SSE stream whose client does not read is closed once its buffer is full", () => {
  const channel = new SseChannel({ bufferBytes: 4096 });
  let sent = 0;
  while (
    channel.send(JSON.stringify({ jsonrpc: "2.0", method: "n", params: { pad: "x".repeat(100) } }))
  ) sent++;
  assert.ok(sent > 10 && sent < 50, `${sent} messages before the stream was closed`);
  assert.equal(channel.slowClient, true);
  assert.equal(channel.closed, true);
});

Deno.test("initialize keeps only the client's name and version (cut) and its known capabilities", async () => {
  const { handler, sessions } = setup({ maxBodyBytes: 1 << 20, maxInitializeBytes: 1 << 20 });
  const res = await postJsonRpc(
    handler,
    rpc(1, "initialize", {
      protocolVersion: "2025-11-25",
      clientInfo: { name: "n".repeat(1000), version: "1.2", title: "t".repeat(5000), extra: [1] },
      capabilities: {
        roots: { listChanged: true, junk: "x".repeat(5000) },
        sampling: { context: { deep: "x".repeat(5000) }, tools: {}, junk: 1 },
        elicitation: { form: {}, url: "not an object" },
        experimental: { anything: "x".repeat(5000) },
        tasks: { requests: {} },
      },
    }),
  );
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const session = [...sessions.values()][0]!;
  assert.deepEqual(session.clientInfo, { name: "n".repeat(256), version: "1.2" });
  assert.deepEqual(session.clientCapabilities, {
    roots: { listChanged: true },
    sampling: { context: {}, tools: {} },
    elicitation: { form: {} },
  });
});

Deno.test("an initialize body over the initialize cap gets 413, with or without a session id", async () => {
  const { handler } = setup({ maxBodyBytes: 1 << 20, maxInitializeBytes: 2048 });
  const big = rpc(1, "initialize", { clientInfo: { name: "x".repeat(3000) } });
  const fresh = await postJsonRpc(handler, big);
  assert.equal(fresh.status, 413);
  assert.match((await fresh.json()).error.message, /more than the 2048 byte limit/);
  const { sessionId } = await initialize(handler);
  const within = await postJsonRpc(handler, big, { "mcp-session-id": sessionId });
  assert.equal(within.status, 413);
  assert.match(
    (await within.json()).error.message,
    /initialize is limited to 2048 bytes \(mcp\.limits\.max_initialize_bytes\)/,
  );
  const call = await postJsonRpc(handler, rpc(2, "ping", { pad: "y".repeat(3000) }), {
    "mcp-session-id": sessionId,
  });
  assert.equal(call.status, 200, "other requests keep the body limit");
  await call.body?.cancel();
});

const ping = async (handler: Handler, sessionId: string, headers: Record<string, string> = {}) => {
  const res = await postJsonRpc(handler, rpc(1, "ping"), {
    ...headers,
    "mcp-session-id": sessionId,
  });
  await res.body?.cancel();
  return res.status;
};

Deno.test("at the global session cap (auth off) initialize ends the least recently used idle session", async () => {
  const { handler, clock, sessions } = setup({
    dispatcher: streamingDispatcher(),
    maxSessions: 3,
  });
  const a = await initialize(handler);
  await clock.advance(1000);
  const b = await initialize(handler);
  await clock.advance(1000);
  const c = await initialize(handler);
  await clock.advance(1000);
  assert.equal(await ping(handler, a.sessionId), 200, "a is now the most recently used");
  const d = await initialize(handler);
  assert.equal(sessions.size, 3);
  assert.equal(await ping(handler, b.sessionId), 404, "b was the least recently used");
  for (const { sessionId } of [a, c, d]) assert.equal(await ping(handler, sessionId), 200);
  const waits = [a, c, d].map(({ sessionId }) =>
    postJsonRpc(handler, rpc(9, "wait"), { "mcp-session-id": sessionId })
  );
  await clock.advance(0);
  const refused = await postJsonRpc(handler, rpc(1, "initialize", {}));
  assert.equal(refused.status, 429);
  assert.equal(
    (await refused.json()).error.message,
    "Too Many Requests: all 3 sessions the gateway holds have calls in flight (mcp.limits.max_sessions); retry when one ends",
  );
  sessions.endAll("gateway_shutdown");
  await Promise.all(waits.map(async (w) => (await w).body?.cancel()));
});

Deno.test("at a client's session cap initialize ends its least recently used idle session", async () => {
  const { handler, clock } = setup({ token: "t", maxSessionsPerClient: 2 });
  const auth = { authorization: "Bearer t" };
  const streaming = await initialize(handler, auth);
  const stream = await handler(
    new Request("http://127.0.0.1/mcp", {
      headers: { ...auth, accept: "text/event-stream", "mcp-session-id": streaming.sessionId },
    }),
  );
  await clock.advance(1000);
  const other = await initialize(handler, auth);
  const third = await initialize(handler, auth);
  assert.equal(await ping(handler, streaming.sessionId, auth), 404, "an open stream is no call");
  assert.deepEqual(await readSseEvents(stream), [], "its stream ended");
  assert.equal(await ping(handler, other.sessionId, auth), 200);
  assert.equal(await ping(handler, third.sessionId, auth), 200);
});

Deno.test("a session that made no request after initialize ends after the short unused TTL", async () => {
  const { handler, clock, sessions } = setup({ unusedTtlMs: 5_000 });
  const unused = await initialize(handler);
  const used = await initialize(handler);
  assert.equal(await ping(handler, used.sessionId), 200);
  await clock.advance(6_000);
  assert.equal(sessions.sweep(), 1);
  assert.equal(await ping(handler, unused.sessionId), 404);
  assert.equal(await ping(handler, used.sessionId), 200);
  await clock.advance(61_000);
  assert.equal(sessions.sweep(), 1, "a used session keeps the idle TTL");
});

Deno.test("a request is served with its own identity's current scopes, not the session's first ones", async () => {
  const scopes = (allow: string[]) => ({
    tools: { allow, deny: [] },
    prompts: { allow: ["*"], deny: [] },
    resources: { allow: ["*"], deny: [] },
  });
  let current: Identity = { name: "ci", scopes: scopes(["*"]) };
  const authenticate: Authenticator = Object.assign(
    () => ({ ok: true as const, identity: current }),
    { scheme: "Bearer" as const },
  );
  const seen: Array<Identity | undefined> = [];
  const dispatcher = streamingDispatcher();
  const { handler } = setup({
    authenticate,
    dispatcher: {
      ...dispatcher,
      handle(method, params, context) {
        seen.push(context.identity);
        return dispatcher.handle(method, params, context);
      },
    },
  });
  const { sessionId } = await initialize(handler);
  current = { name: "ci", scopes: scopes(["narrow__*"]) };
  await (await postJsonRpc(handler, rpc(1, "x"), { "mcp-session-id": sessionId })).body?.cancel();
  assert.deepEqual(seen.map((identity) => identity?.scopes?.tools.allow), [["narrow__*"]]);
});

Deno.test("an answer larger than the stream buffer reaches a client that accepts only SSE", async () => {
  const { handler } = setup({ dispatcher: streamingDispatcher() });
  const { sessionId } = await initialize(handler);
  const res = await postJsonRpc(handler, rpc(4, "big"), {
    "mcp-session-id": sessionId,
    accept: "text/event-stream",
  });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const events = await readSseEvents(res);
  assert.equal(events.length, 1);
  assert.equal(JSON.parse(events[0]!.data).result.text.length, 1_500_000);
});

Deno.test("an answer stream whose client stops reading ends with an error it can read, and the call stops", async () => {
  let aborted = false;
  const dispatcher = streamingDispatcher();
  const { handler } = setup({
    streamBufferBytes: 4096,
    dispatcher: {
      ...dispatcher,
      async handle(method, params, context) {
        context.signal.addEventListener("abort", () => aborted = true);
        return await dispatcher.handle(method, params, context);
      },
    },
  });
  const { sessionId } = await initialize(handler);
  const res = await postJsonRpc(handler, rpc(6, "flood"), { "mcp-session-id": sessionId });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const messages = (await readSseEvents(res)).map((e) => JSON.parse(e.data));
  const last = messages.at(-1);
  assert.equal(last.id, 6);
  assert.match(
    last.error.message,
    /^Cannot stream the answer: the client left more than 4096 bytes unread/,
  );
  assert.ok(messages.length > 5 && messages.length < 40, `${messages.length} events`);
  assert.equal(aborted, true);
});

Deno.test("SseChannel sends one message larger than its buffer once, and refuses a second while the first is unread", async () => {
  const channel = new SseChannel({ bufferBytes: 4096 });
  const big = JSON.stringify({ jsonrpc: "2.0", method: "n", params: { pad: "x".repeat(10_000) } });
  assert.equal(channel.send(big), true);
  assert.equal(channel.send('{"jsonrpc":"2.0","method":"small"}'), true);
  assert.equal(channel.send(big), false);
  assert.equal(channel.slowClient, true);
  const events = await readSseEvents(new Response(channel.body));
  assert.deepEqual(events.map((e) => e.data.length), [big.length, 34]);
});

Deno.test("SseChannel takes a new large message once the client read the previous one", async () => {
  const channel = new SseChannel({ bufferBytes: 4096 });
  const reader = channel.body.getReader();
  const big = JSON.stringify({ jsonrpc: "2.0", method: "n", params: { pad: "x".repeat(10_000) } });
  assert.equal(channel.send(big), true);
  await reader.read();
  assert.equal(channel.send(big), true);
  assert.equal(channel.slowClient, false);
  await reader.cancel();
});

Deno.test("a request whose id is already in flight in the session is refused with -32600", async () => {
  const { handler } = setup({ dispatcher: streamingDispatcher() });
  const { sessionId } = await initialize(handler);
  const headers = { "mcp-session-id": sessionId, accept: "application/json" };
  const first = postJsonRpc(handler, rpc(9, "wait"), headers);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(await (await postJsonRpc(handler, rpc(9, "x"), headers)).json(), {
    jsonrpc: "2.0",
    id: 9,
    error: {
      code: -32600,
      message: "Invalid Request: id 9 is already used by a request in flight in this session",
    },
  });
  const other = await postJsonRpc(handler, rpc("9" as unknown as number, "x"), headers);
  assert.deepEqual((await other.json()).result, { echo: null }, "the string '9' is another id");
  await postJsonRpc(handler, {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 9 },
  }, headers);
  assert.deepEqual((await (await first).json()).result, { aborted: true });
  assert.deepEqual((await (await postJsonRpc(handler, rpc(9, "x"), headers)).json()).result, {
    echo: null,
  }, "the id is free again once answered");
});

Deno.test("ids beyond 2^53 come back with the digits sent, and are told apart and cancelled exactly", async () => {
  const { handler } = setup({ dispatcher: streamingDispatcher() });
  const init = await postJsonRpc(
    handler,
    '{"jsonrpc":"2.0","id":9007199254740995,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}',
  );
  assert.match(await init.text(), /^\{"jsonrpc":"2.0","id":9007199254740995,"result":/);
  const headers = {
    "mcp-session-id": init.headers.get("mcp-session-id")!,
    accept: "application/json",
  };
  const pending = postJsonRpc(
    handler,
    '{"jsonrpc":"2.0","id":9007199254740993,"method":"wait"}',
    headers,
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  const neighbour = await postJsonRpc(
    handler,
    '{"jsonrpc":"2.0","id":9007199254740992,"method":"x"}',
    headers,
  );
  assert.equal(
    await neighbour.text(),
    '{"jsonrpc":"2.0","id":9007199254740992,"result":{"echo":null}}',
  );
  const batch = await postJsonRpc(
    handler,
    '[{"jsonrpc":"2.0","id":-12345678901234567890,"method":"x"},{"jsonrpc":"2.0","id":2,"method":"x"}]',
    headers,
  );
  assert.match(await batch.text(), /^\[\{"jsonrpc":"2.0","id":-12345678901234567890,"result"/);
  await postJsonRpc(
    handler,
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9007199254740992}}',
    headers,
  );
  const raced = await Promise.race([
    pending.then(() => "answered"),
    new Promise((r) => setTimeout(() => r("waiting"), 20)),
  ]);
  assert.equal(raced, "waiting", "a neighbouring id cancels nothing");
  await postJsonRpc(
    handler,
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9007199254740993}}',
    headers,
  );
  assert.equal(
    await (await pending).text(),
    '{"jsonrpc":"2.0","id":9007199254740993,"result":{"aborted":true}}',
  );
});
