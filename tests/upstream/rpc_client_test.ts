import assert from "node:assert/strict";
import { GatewayError, McpError } from "../../src/mcp/errors.ts";
import type { JsonObject, JsonRpcNotification } from "../../src/mcp/jsonrpc.ts";
import { silentLogger } from "../../src/log.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import { SessionExpiredError } from "../../src/upstream/transport.ts";
import { type Script, ScriptedTransport, toolServer } from "../_support/scripted_transport.ts";
import { waitFor } from "../_support/wait.ts";

function client(script: Script, kind?: "stdio" | "sse") {
  const transport = new ScriptedTransport(script, kind);
  const rpc = new RpcClient({
    server: "up",
    transport,
    clientInfo: { name: "mcpstead", version: "test" },
    log: silentLogger,
    timeoutMs: 1000,
  });
  return { transport, rpc };
}

Deno.test("RpcClient.connect() sends initialize then notifications/initialized", async () => {
  const { transport, rpc } = client(toolServer(() => []));
  const init = await rpc.connect();
  assert.equal(init.protocolVersion, "2025-11-25");
  assert.deepEqual(transport.methods(), ["initialize", "notifications/initialized"]);
  const initialize = transport.sent[0] as unknown as { params: { clientInfo: unknown } };
  assert.deepEqual(initialize.params.clientInfo, { name: "mcpstead", version: "test" });
  await rpc.close();
});

Deno.test("RpcClient.request() uses its own ids, so two callers' equal ids never collide", async () => {
  const { transport, rpc } = client(
    toolServer(() => [], (req) => ({ echo: req.params?.arguments ?? null })),
  );
  await rpc.connect();
  const [a, b] = await Promise.all([
    rpc.request("tools/call", { name: "x", arguments: { who: "a" } }, { timeoutMs: 1000 }),
    rpc.request("tools/call", { name: "x", arguments: { who: "b" } }, { timeoutMs: 1000 }),
  ]);
  assert.deepEqual(a, { echo: { who: "a" } });
  assert.deepEqual(b, { echo: { who: "b" } });
  const ids = transport.sent.filter((m) => "id" in m).map((m) => (m as { id: number }).id);
  assert.equal(new Set(ids).size, ids.length);
  await rpc.close();
});

Deno.test("RpcClient.request() maps progress tokens out and back per request", async () => {
  const { transport, rpc } = client(toolServer(() => [], (req, reply) => {
    const token = (req.params?._meta as { progressToken: number }).progressToken;
    reply.deliver({
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: token, progress: 1 },
    });
    return { content: [] };
  }));
  await rpc.connect();
  const seen: Array<[string, unknown]> = [];
  const call = (who: string) =>
    rpc.request("tools/call", { name: "x", _meta: { progressToken: "same", other: who } }, {
      timeoutMs: 1000,
      onNotification: (n: JsonRpcNotification) => seen.push([who, n.params?.progressToken]),
    });
  await Promise.all([call("a"), call("b")]);
  assert.deepEqual(seen.sort(), [["a", "same"], ["b", "same"]]);
  const upstreamTokens = transport.sent
    .filter((m) => "method" in m && m.method === "tools/call")
    .map((m) =>
      (m as unknown as { params: { _meta: { progressToken: unknown; other: string } } }).params
        ._meta
    );
  assert.notEqual(upstreamTokens[0]!.progressToken, upstreamTokens[1]!.progressToken);
  assert.deepEqual(upstreamTokens.map((m) => m.other).sort(), ["a", "b"]);
  await rpc.close();
});

Deno.test("RpcClient.request() passes an upstream JSON-RPC error through unchanged", async () => {
  const { rpc } = client(toolServer(() => [], (_req, reply) => {
    reply.error(-32602, "bad arguments", { detail: "x" });
    return undefined;
  }));
  await rpc.connect();
  await assert.rejects(
    rpc.request("tools/call", { name: "x" }, { timeoutMs: 1000 }),
    (error) =>
      error instanceof McpError && error.code === -32602 && error.message === "bad arguments" &&
      JSON.stringify(error.data) === '{"detail":"x"}',
  );
  await rpc.close();
});

Deno.test("RpcClient.request() re-initializes once on an expired session and retries", async () => {
  let expired = 1;
  let executions = 0;
  const { transport, rpc } = client(toolServer(() => [], () => {
    if (expired-- > 0) throw new SessionExpiredError("gone");
    executions++;
    return { ok: true };
  }));
  await rpc.connect();
  assert.deepEqual(await rpc.request("tools/call", { name: "x" }, { timeoutMs: 1000 }), {
    ok: true,
  });
  assert.equal(executions, 1);
  assert.equal(transport.methods().filter((m) => m === "initialize").length, 2);
  await rpc.close();
});

Deno.test("RpcClient.request() times out with a clear error and cancels upstream", async () => {
  const { transport, rpc } = client(toolServer(() => [], () => new Promise(() => {})));
  await rpc.connect();
  await assert.rejects(
    rpc.request("tools/call", { name: "slow" }, { timeoutMs: 50 }),
    (error) =>
      error instanceof GatewayError && error.code === "upstream_timeout" &&
      error.message === "Upstream 'up' did not answer 'tools/call' within 50 ms",
  );
  const cancelled = transport.sent.find((m) =>
    "method" in m && m.method === "notifications/cancelled"
  );
  assert.ok(cancelled, "notifications/cancelled was sent");
  await rpc.close();
});

Deno.test("RpcClient.request() forwards a caller's cancellation with the upstream id", async () => {
  const { transport, rpc } = client(toolServer(() => [], () => new Promise(() => {})));
  await rpc.connect();
  const controller = new AbortController();
  const call = rpc.request("tools/call", { name: "slow" }, {
    timeoutMs: 5000,
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(
    call,
    (error) => error instanceof GatewayError && error.code === "upstream_cancelled",
  );
  const sentCall = transport.sent.find((m) => "method" in m && m.method === "tools/call") as {
    id: number;
  };
  const cancelled = transport.sent.find((m) =>
    "method" in m && m.method === "notifications/cancelled"
  ) as unknown as {
    params: { requestId: number };
  };
  assert.equal(cancelled.params.requestId, sentCall.id);
  await rpc.close();
});

Deno.test("RpcClient rejects pending requests when the transport closes", async () => {
  const { transport, rpc } = client(toolServer(() => [], () => new Promise(() => {})));
  await rpc.connect();
  const call = rpc.request("tools/call", { name: "slow" }, { timeoutMs: 5000 });
  transport.fail(new Error("child exited"));
  await assert.rejects(
    call,
    (error) => error instanceof GatewayError && error.code === "upstream_disconnected",
  );
});

Deno.test("RpcClient answers an upstream ping and relays other server requests to the handler", async () => {
  const { transport, rpc } = client((req, reply) => {
    if (req.method === "initialize") {
      return { protocolVersion: "2025-11-25", capabilities: {}, serverInfo: {} };
    }
    reply.deliver({ jsonrpc: "2.0", id: "s1", method: "ping" });
    reply.deliver({ jsonrpc: "2.0", id: "s2", method: "roots/list" });
    return { done: true };
  });
  await rpc.connect();
  await rpc.request("tools/call", { name: "x" }, {
    timeoutMs: 1000,
    onRequest: (request) =>
      Promise.resolve({ roots: [{ uri: "file:///tmp", name: request.method }] }),
  });
  const answers = () => transport.sent.filter((m) => !("method" in m));
  await waitFor(() => answers().length === 2, "both server requests to be answered");
  assert.deepEqual(answers(), [
    { jsonrpc: "2.0", id: "s1", result: {} },
    { jsonrpc: "2.0", id: "s2", result: { roots: [{ uri: "file:///tmp", name: "roots/list" }] } },
  ]);
  await rpc.close();
});

Deno.test("RpcClient.request() gives up with a named error when the new session expires too", async () => {
  const { transport, rpc } = client(toolServer(() => [], () => {
    throw new SessionExpiredError("gone");
  }));
  await rpc.connect();
  await assert.rejects(
    rpc.request("tools/call", { name: "x" }, { timeoutMs: 1000 }),
    (error) =>
      error instanceof GatewayError && error.code === "upstream_protocol_error" &&
      /rejected a new session/.test(error.message),
  );
  assert.equal(
    transport.methods().filter((m) => m === "initialize").length,
    2,
    "one re-initialize only",
  );
  await rpc.close();
});

Deno.test("RpcClient without correlation routes an upstream request by its progress token, else refuses naming the setting", async () => {
  const hold = Promise.withResolvers<void>();
  const { transport, rpc } = client(async (req) => {
    if (req.method === "initialize") {
      return { protocolVersion: "2025-11-25", capabilities: {}, serverInfo: {} };
    }
    if (req.method === "tools/call") await hold.promise;
    return req.method === "tools/call" ? { done: true } : undefined;
  }, "sse");
  await rpc.connect();
  const seen: string[] = [];
  const call = (owner: string, meta = {}) =>
    rpc.request("tools/call", { name: owner, _meta: meta }, {
      timeoutMs: 1000,
      owner,
      onRequest: (request) => {
        seen.push(`${owner} asked ${String(request.id)}`);
        return Promise.resolve({ answeredBy: owner });
      },
      onNotification: (n) => void seen.push(`${owner} got ${String(n.params?.data)}`),
    });
  const calls = [call("one"), call("two", { progressToken: "t" })];
  const sent = transport.sent.filter((m) => "method" in m && m.method === "tools/call");
  const tokenOfTwo = (sent[1] as unknown as { params: { _meta: { progressToken: unknown } } })
    .params._meta.progressToken;
  const ask = (id: string, meta: JsonObject) =>
    transport.push({
      jsonrpc: "2.0",
      id,
      method: "sampling/createMessage",
      params: { _meta: meta },
    });
  ask("by-token", { progressToken: tokenOfTwo as string });
  ask("own-token", { progressToken: 2 });
  ask("plain", {});
  transport.push({ jsonrpc: "2.0", method: "notifications/message", params: { data: "log" } });
  hold.resolve();
  await Promise.all(calls);
  await waitFor(() => transport.sent.filter((m) => !("method" in m)).length === 3, "3 answers");
  const answers = transport.sent.filter((m) => !("method" in m)) as unknown as Array<
    { id: string; result?: unknown; error?: { code: number; message: string } }
  >;
  assert.deepEqual(answers.find((a) => a.id === "by-token")?.result, { answeredBy: "two" });
  for (const id of ["own-token", "plain"]) {
    const error = answers.find((a) => a.id === id)?.error;
    assert.equal(error?.code, -32600, id);
    assert.equal(
      error?.message,
      "Cannot relay 'sampling/createMessage' from upstream 'up': calls of 2 clients are in " +
        "flight and sse cannot tell which one asked; set 'session: per_client' on server 'up' " +
        "so that each client gets its own upstream",
    );
  }
  assert.deepEqual(seen, ["two asked by-token", "one got log", "two got log"]);
  await rpc.close();
});
