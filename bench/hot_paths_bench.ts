/**
 * Micro benchmarks of the request path (`deno bench --allow-all bench/`): router match, the
 * JSON-RPC id rewrite in `RpcClient`, the per-request abort signals, SSE decode and encode,
 * name mapping and catalog lookups, and one whole `tools/call` through the gateway handler
 * in-process, from a 2025 session and from a sessionless 2026-07-28 client (no sockets; the
 * upstream is a fake `fetch`).
 *
 * @module
 */
import { parseConfig } from "../src/config/mod.ts";
import { createGateway } from "../src/gateway.ts";
import { createRouter, type Handler } from "../src/http/router.ts";
import { encodeSseMessage, SseDecoderStream } from "../src/http/sse.ts";
import type { JsonObject, JsonRpcMessage } from "../src/mcp/jsonrpc.ts";
import { exposedName } from "../src/mcp/names.ts";
import { silentLogger } from "../src/log.ts";
import { Catalog, paginate } from "../src/upstream/catalog.ts";
import { RpcClient } from "../src/upstream/rpc_client.ts";
import type { Deliver, MessageTransport } from "../src/upstream/transport.ts";
import { initializeParams } from "./raw_mcp_session.ts";
import { MODERN_VERSION, withEnvelope } from "./raw_modern_client.ts";
import { benchTool, createFastServer } from "./fast_mcp.ts";

// ---------------------------------------------------------------- router

const ok = new Response("ok");
const handle: Handler = () => ok;
const router = createRouter({
  "/mcp": { POST: handle, GET: handle, DELETE: handle },
  "/health": { GET: handle },
  "/metrics": { GET: handle },
  "/ui": { GET: handle },
  "/ui/tools": { GET: handle },
  "/-/reload": { POST: handle },
});
const postMcp = new Request("http://127.0.0.1:8766/mcp", { method: "POST" });
const getHealth = new Request("http://127.0.0.1:8766/health?verbose=1");
const notFound = new Request("http://127.0.0.1:8766/nope");
const notAllowed = new Request("http://127.0.0.1:8766/metrics", { method: "POST" });

Deno.bench({
  name: "router: POST /mcp",
  group: "router",
  baseline: true,
  fn: () => void router(postMcp, {}),
});
Deno.bench({
  name: "router: GET /health?query",
  group: "router",
  fn: () => void router(getHealth, {}),
});
Deno.bench({ name: "router: 404", group: "router", fn: () => void router(notFound, {}) });
Deno.bench({
  name: "router: 405 with Allow",
  group: "router",
  fn: () => void router(notAllowed, {}),
});

// ---------------------------------------------------------------- JSON-RPC id rewrite

/** An upstream that answers every request at once, in memory. */
class EchoTransport implements MessageTransport {
  readonly kind = "streamable" as const;
  readonly correlates = true;
  #deliver: Deliver = () => {};
  open(deliver: Deliver): Promise<void> {
    this.#deliver = deliver;
    return Promise.resolve();
  }
  initialized(): void {}
  resetSession(): void {}
  send(message: JsonRpcMessage): Promise<void> {
    if ("method" in message && "id" in message) {
      const result = message.method === "initialize"
        ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "e" } }
        : { content: [{ type: "text", text: "ok" }] };
      this.#deliver({ jsonrpc: "2.0", id: message.id, result }, message.id as number);
    }
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const rpc = new RpcClient({
  server: "bench",
  transport: new EchoTransport(),
  clientInfo: { name: "bench", version: "0" },
  log: silentLogger,
  timeoutMs: 60_000,
});
await rpc.connect();
const callParams = { name: "tool_0", arguments: { text: "hello" } };
const downstream = new AbortController();

Deno.bench({
  name: "RpcClient.request(): id rewrite, deadline, answer matched (in-memory upstream)",
  group: "rpc",
  baseline: true,
  fn: async () => void await rpc.request("tools/call", callParams, { timeoutMs: 60_000 }),
});
Deno.bench({
  name: "RpcClient.request() with a caller signal (as the gateway calls it)",
  group: "rpc",
  fn: async () =>
    void await rpc.request("tools/call", callParams, {
      timeoutMs: 60_000,
      signal: downstream.signal,
    }),
});

// What each request pays for its deadlines and cancellation, in isolation.
const longLived = new AbortController();
Deno.bench({
  name: "new AbortController()",
  group: "signals",
  baseline: true,
  fn: () => void new AbortController(),
});
Deno.bench({
  name: "AbortSignal.timeout(60 s) (a timer per request)",
  group: "signals",
  fn: () => void AbortSignal.timeout(60_000),
});
Deno.bench({
  name: "AbortSignal.any([request, long-lived session signal])",
  group: "signals",
  fn: () => void AbortSignal.any([new AbortController().signal, longLived.signal]),
});
Deno.bench({
  name: "addEventListener + removeEventListener(abort)",
  group: "signals",
  fn: () => {
    const signal = new AbortController().signal;
    const f = () => {};
    signal.addEventListener("abort", f, { once: true });
    signal.removeEventListener("abort", f);
  },
});

// ---------------------------------------------------------------- SSE

const event = encodeSseMessage(
  JSON.stringify({
    jsonrpc: "2.0",
    id: 7,
    result: { content: [{ type: "text", text: "x".repeat(120) }] },
  }),
);
const streamText = event.repeat(100);
const chunks = Array.from(
  { length: Math.ceil(streamText.length / 1024) },
  (_, i) => streamText.slice(i * 1024, (i + 1) * 1024),
);

Deno.bench({
  name: `SseDecoderStream: 100 events (${streamText.length} B in 1 KiB chunks)`,
  group: "sse",
  baseline: true,
  fn: async () => {
    const source = ReadableStream.from(chunks).pipeThrough(new SseDecoderStream());
    let n = 0;
    for await (const _ of source) n++;
    if (n !== 100) throw new Error(`decoded ${n} events`);
  },
});
Deno.bench({
  name: "SseDecoderStream: 1 event (one JSON answer on a stream)",
  group: "sse",
  fn: async () => {
    for await (const _ of ReadableStream.from([event]).pipeThrough(new SseDecoderStream()));
  },
});
const json = JSON.stringify({
  jsonrpc: "2.0",
  id: 7,
  result: { content: [{ type: "text", text: "ok" }] },
});
Deno.bench({
  name: "encodeSseMessage(): one message",
  group: "sse",
  fn: () => void encodeSseMessage(json),
});
Deno.bench({
  name: "encodeSseMessage() with an event id",
  group: "sse",
  fn: () => void encodeSseMessage(json, "42"),
});

// ---------------------------------------------------------------- names and catalog

Deno.bench({
  name: "exposedName(): client-safe server__tool",
  group: "names",
  baseline: true,
  fn: () => void exposedName("github", "create_issue", true),
});
Deno.bench({
  name: "exposedName(): unsafe and too long (hash suffix)",
  group: "names",
  fn: () => void exposedName("a.very.long.server.name", "tool/with spaces/".repeat(4), true),
});

const tools = Array.from({ length: 50 }, (_, i) => benchTool(i) as JsonObject);
const sources = Array.from({ length: 20 }, (_, i) => ({
  server: `s${i + 1}`,
  prefixed: true,
  tools,
  prompts: [],
  resources: [],
  templates: [],
}));
const catalog = new Catalog(sources);
const lookups = catalog.tools.map((t) => t.name as string);
let next = 0;

Deno.bench({
  name: "new Catalog(): 20 upstreams × 50 tools",
  group: "catalog",
  baseline: true,
  fn: () => void new Catalog(sources),
});
Deno.bench({
  name: "Catalog.tool(): route lookup by exposed name",
  group: "catalog",
  fn: () => void catalog.tool(lookups[next++ % lookups.length]!),
});
Deno.bench({
  name: "tools/list body: paginate + JSON.stringify 1,000 tools",
  group: "catalog",
  fn: () =>
    void JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      result: { tools: paginate(catalog.tools, undefined, 1000).items },
    }),
});

// ---------------------------------------------------------------- whole request, in-process

const upstream = createFastServer({ tools: 5, name: "fake" });
const JSON_HEADERS = { "content-type": "application/json" };
/** The fast upstream's logic behind a `fetch` that never touches a socket. */
const fakeFetch = (_input: string, init: RequestInit): Promise<Response> => {
  if (init.method !== "POST") return Promise.resolve(new Response(null, { status: 405 }));
  const answer = upstream.answer(init.body as string);
  return Promise.resolve(
    answer === undefined
      ? new Response(null, { status: 202 })
      : new Response(answer, { headers: JSON_HEADERS }),
  );
};
const gateway = createGateway(
  parseConfig(
    "host: 127.0.0.1\nport: 0\nservers:\n  - name: fast\n    url: http://fake.invalid/mcp\n    protocol: streamable\n",
    "bench.yaml",
    () => undefined,
  ),
  { version: "bench", log: silentLogger, fetchFor: () => fakeFetch },
);
for (let i = 0; i < 500 && gateway.catalog().size === 0; i++) {
  await new Promise((r) => setTimeout(r, 2));
}
if (gateway.catalog().size === 0) {
  throw new Error("Cannot bench: the fake upstream did not connect");
}

const MCP = "http://127.0.0.1:8766/mcp";
const baseHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};
const init = await gateway.handler(
  new Request(MCP, {
    method: "POST",
    headers: baseHeaders,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: initializeParams("bench"),
    }),
  }),
  {},
);
await init.body?.cancel();
const sessionHeaders = {
  ...baseHeaders,
  "mcp-session-id": init.headers.get("mcp-session-id")!,
  "mcp-protocol-version": "2025-11-25",
};
const callBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "fast__tool_0", arguments: { text: "hello" } },
});
// As a socket request has it (the body reader takes its fast path on a declared length).
const callHeaders = {
  ...sessionHeaders,
  "content-length": String(new TextEncoder().encode(callBody).length),
};

Deno.bench({
  name: "new Request() + text(): what any handler pays per request",
  group: "gateway",
  baseline: true,
  fn: async () =>
    void await new Request(MCP, { method: "POST", headers: sessionHeaders, body: callBody }).text(),
});
Deno.bench({
  name: "bare pass-through handler: read body, fake fetch, JSON response",
  group: "gateway",
  fn: async () => {
    const req = new Request(MCP, { method: "POST", headers: sessionHeaders, body: callBody });
    const res = await fakeFetch(MCP, { method: "POST", body: await req.text() });
    await new Response(await res.text(), { headers: JSON_HEADERS }).text();
  },
});
Deno.bench({
  name: "gateway.handler(): tools/call end to end (fake upstream fetch)",
  group: "gateway",
  fn: async () => {
    const res = await gateway.handler(
      new Request(MCP, { method: "POST", headers: callHeaders, body: callBody }),
      {},
    );
    await res.text();
  },
});

// Stop the gateway's loops once every bench has run, so the process can exit.
globalThis.addEventListener("unload", () => void gateway.dispose());

const modernBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: JSON.parse(withEnvelope(JSON.stringify(JSON.parse(callBody).params), "bench")),
});
// A sessionless 2026-07-28 client: the envelope in `_meta`, the method and name mirrored in headers.
const modernHeaders = {
  ...baseHeaders,
  "mcp-protocol-version": MODERN_VERSION,
  "mcp-method": "tools/call",
  "mcp-name": "fast__tool_0",
  "content-length": String(new TextEncoder().encode(modernBody).length),
};
Deno.bench({
  name: "gateway.handler(): tools/call of a sessionless 2026-07-28 client (fake upstream fetch)",
  group: "gateway",
  fn: async () => {
    const res = await gateway.handler(
      new Request(MCP, { method: "POST", headers: modernHeaders, body: modernBody }),
      {},
    );
    await res.text();
  },
});
