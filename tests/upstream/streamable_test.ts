import assert from "node:assert/strict";
import { GatewayError } from "../../src/mcp/errors.ts";
import type { JsonRpcMessage } from "../../src/mcp/jsonrpc.ts";
import { silentLogger } from "../../src/log.ts";
import { StreamableHttpTransport } from "../../src/upstream/streamable.ts";
import type { FetchLike } from "../../src/upstream/transport.ts";
import { SessionExpiredError } from "../../src/upstream/transport.ts";

const request: JsonRpcMessage = {
  jsonrpc: "2.0",
  id: 7,
  method: "tools/call",
  params: { name: "t" },
};
const answer = JSON.stringify({ jsonrpc: "2.0", id: 7, result: { ok: true } });

function transport(body: string, init: ResponseInit, options: { normalize?: boolean } = {}) {
  const sent: RequestInit[] = [];
  const fetch: FetchLike = (_url, requestInit) => {
    sent.push(requestInit);
    if (requestInit.method === "GET") return Promise.resolve(new Response(null, { status: 405 }));
    return Promise.resolve(new Response(body, init));
  };
  const t = new StreamableHttpTransport({
    server: "up",
    url: "http://127.0.0.1:1/mcp",
    headers: {},
    userAgent: "test",
    fetch,
    log: silentLogger,
    normalizeSseEvents: options.normalize ?? false,
  });
  const delivered: JsonRpcMessage[] = [];
  t.open((m) => delivered.push(m), () => {});
  return { t, delivered, sent };
}

const sse = { headers: { "content-type": "text/event-stream" } };

Deno.test("StreamableHttpTransport reads SSE answers with and without event lines, skipping keep-alives", async () => {
  const body =
    `: comment\n\nevent: ping\ndata: {}\n\ndata: [DONE]\n\nid: 1\ndata:\n\ndata: ${answer}\n\n`;
  const { t, delivered } = transport(body, sse);
  await t.send(request, AbortSignal.timeout(1000));
  assert.deepEqual(delivered, [JSON.parse(answer)]);
  const named = transport(`event: message\ndata: ${answer}\n\n`, sse);
  await named.t.send(request, AbortSignal.timeout(1000));
  assert.deepEqual(named.delivered, [JSON.parse(answer)]);
});

Deno.test("StreamableHttpTransport ignores oddly named events unless normalize_sse_events is on", async () => {
  const body = `event: result\ndata: ${answer}\n\n`;
  const strict = transport(body, sse);
  await assert.rejects(
    strict.t.send(request, AbortSignal.timeout(1000)),
    /closed the stream before answering/,
  );
  const lenient = transport(body, sse, { normalize: true });
  await lenient.t.send(request, AbortSignal.timeout(1000));
  assert.deepEqual(lenient.delivered, [JSON.parse(answer)]);
});

Deno.test("StreamableHttpTransport reads a JSON answer and sends the MCP headers", async () => {
  const { t, delivered, sent } = transport(answer, {
    headers: { "content-type": "application/json", "mcp-session-id": "s1" },
  });
  await t.send(request, AbortSignal.timeout(1000));
  assert.deepEqual(delivered, [JSON.parse(answer)]);
  t.initialized("2025-11-25");
  await t.send(request, AbortSignal.timeout(1000));
  const headers = sent.filter((r) => r.method === "POST")[1]!.headers as Record<string, string>;
  assert.equal(headers["mcp-session-id"], "s1");
  assert.equal(headers["mcp-protocol-version"], "2025-11-25");
  assert.equal(headers["accept"], "application/json, text/event-stream");
  assert.equal(headers["content-type"], "application/json");
  await t.close();
});

Deno.test("StreamableHttpTransport maps HTTP failures to named errors", async () => {
  const bad = transport("oops", { status: 500 });
  await assert.rejects(
    bad.t.send(request, AbortSignal.timeout(1000)),
    (e) => e instanceof GatewayError && e.code === "upstream_http_error",
  );
  const garbage = transport("not json", { headers: { "content-type": "application/json" } });
  await assert.rejects(garbage.t.send(request, AbortSignal.timeout(1000)), /not valid JSON/);
  const empty = transport("", { headers: { "content-type": "application/json" } });
  await assert.rejects(empty.t.send(request, AbortSignal.timeout(1000)), /empty body/);
});

Deno.test("StreamableHttpTransport reports an expired session only when it sent one", async () => {
  const withSession = transport("", { status: 404 });
  await assert.rejects(
    withSession.t.send(request, AbortSignal.timeout(1000)),
    (e) => e instanceof GatewayError,
  );
  const { t } = transport(answer, {
    headers: { "content-type": "application/json", "mcp-session-id": "s1" },
  });
  await t.send(request, AbortSignal.timeout(1000));
  const expired = new StreamableHttpTransport({
    server: "up",
    url: "http://127.0.0.1:1/mcp",
    headers: {},
    userAgent: "test",
    log: silentLogger,
    fetch: (_u, init) =>
      Promise.resolve(
        init.method === "POST" && (init.headers as Record<string, string>)["mcp-session-id"]
          ? new Response("Bad Request: No valid session ID provided", { status: 400 })
          : new Response(answer, {
            headers: { "content-type": "application/json", "mcp-session-id": "s2" },
          }),
      ),
  });
  await expired.open(() => {}, () => {});
  await expired.send(request, AbortSignal.timeout(1000));
  await assert.rejects(
    expired.send(request, AbortSignal.timeout(1000)),
    (e) => e instanceof SessionExpiredError,
  );
});
