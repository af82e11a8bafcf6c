import assert from "node:assert/strict";
import { GatewayError } from "../../src/mcp/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { LegacySseTransport } from "../../src/upstream/legacy_sse.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import type { FetchLike } from "../../src/upstream/transport.ts";

const STREAM_URL = "https://mcp.example.com/sse";

interface Call {
  url: string;
  init: RequestInit;
}

/** An event stream whose first event names `endpoint`; it stays open until cancelled. */
function eventStream(endpoint: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`event: endpoint\ndata: ${endpoint}\n\n`));
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function connect(fetch: FetchLike) {
  const transport = new LegacySseTransport({
    server: "old",
    url: STREAM_URL,
    headers: { authorization: "Bearer up-secret" },
    userAgent: "mcpstead/test",
    fetch,
    log: silentLogger,
    timeoutMs: 1000,
  });
  return new RpcClient({
    server: "old",
    transport,
    clientInfo: { name: "t", version: "0" },
    log: silentLogger,
    timeoutMs: 1000,
  });
}

Deno.test("LegacySseTransport refuses an endpoint on another origin and sends it nothing", async () => {
  for (const endpoint of ["https://evil.example/messages?s=1", "http://mcp.example.com/messages"]) {
    const calls: Call[] = [];
    const client = connect((url, init) => {
      calls.push({ url, init });
      return Promise.resolve(eventStream(endpoint));
    });
    await assert.rejects(client.connect(), (error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, "upstream_protocol_error");
      assert.equal(
        error.message,
        `Cannot use the endpoint of upstream 'old': '${endpoint.replace("s=1", "s=***")}' is ` +
          "not on the origin of its url ('https://mcp.example.com'), and messages carry its headers",
      );
      return true;
    });
    assert.deepEqual(calls.map((c) => c.init.method), ["GET"], "no message was POSTed");
    await client.close();
  }
});

Deno.test("LegacySseTransport follows no redirect, and names where one points", async () => {
  const calls: Call[] = [];
  const redirect = (location: string) => new Response(null, { status: 307, headers: { location } });
  const stream = connect((url, init) => {
    calls.push({ url, init });
    return Promise.resolve(redirect("https://elsewhere.example/sse?token=t0ken"));
  });
  await assert.rejects(stream.connect(), {
    name: "GatewayError",
    message: "Upstream 'old' answered the SSE stream request with HTTP 307 (a redirect to " +
      "'https://elsewhere.example/sse?token=***', not followed)",
  });
  await stream.close();
  const post = connect((url, init) => {
    calls.push({ url, init });
    return Promise.resolve(
      init.method === "GET"
        ? eventStream("/messages?s=1")
        : redirect("https://elsewhere.example/m"),
    );
  });
  await assert.rejects(post.connect(), {
    name: "GatewayError",
    message: "Upstream 'old' answered a message with HTTP 307 (a redirect to " +
      "'https://elsewhere.example/m', not followed)",
  });
  await post.close();
  assert.equal(calls[2]!.url, "https://mcp.example.com/messages?s=1");
  assert.deepEqual(calls.map((c) => c.init.redirect), ["manual", "manual", "manual"]);
});
