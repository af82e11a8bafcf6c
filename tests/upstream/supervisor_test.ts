import assert from "node:assert/strict";
import type { JsonObject } from "../../src/mcp/jsonrpc.ts";
import { silentLogger } from "../../src/log.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import { Supervisor } from "../../src/upstream/supervisor.ts";
import { FakeClock, settle } from "../_support/fake_clock.ts";
import { type Script, ScriptedTransport, toolServer } from "../_support/scripted_transport.ts";

interface Harness {
  clock: FakeClock;
  supervisor: Supervisor;
  transports: ScriptedTransport[];
  changes: number;
  stop: AbortController;
  done: Promise<void>;
}

function start(
  scriptFor: (attempt: number) => Script,
  reconnect = { max_attempts: 0, backoff_base_ms: 1000, backoff_max_ms: 8000 },
): Harness {
  const clock = new FakeClock();
  const transports: ScriptedTransport[] = [];
  const harness = { clock, transports, changes: 0, stop: new AbortController() } as Harness;
  harness.supervisor = new Supervisor({
    config: {
      name: "up",
      timeout: 5,
      reconnect,
      tools: { ttl_seconds: 300 },
      retry: { attempts: 0, backoff_base_ms: 10, backoff_max_ms: 10, tools: [], budget: 0 },
      circuit_breaker: { failures: 0, window_seconds: 30, open_seconds: 30 },
      rate_limit: { requests_per_second: 0, burst: 0 },
      max_concurrent: 0,
      max_queue: 0,
    },
    clock,
    log: silentLogger,
    onChange: () => harness.changes++,
    createClient: (handlers) => {
      const transport = new ScriptedTransport(scriptFor(transports.length + 1));
      transports.push(transport);
      return new RpcClient({
        server: "up",
        transport,
        clientInfo: { name: "t", version: "0" },
        handlers,
        log: silentLogger,
        timeoutMs: 5000,
      });
    },
  });
  harness.done = harness.supervisor.run(harness.stop.signal);
  return harness;
}

const tool = (name: string): JsonObject => ({ name, inputSchema: { type: "object" } });
const down: Script = () => {
  throw new TypeError("Connection refused");
};

Deno.test("Supervisor connects, lists every page of tools and reports connected", async () => {
  const h = start(() => (req) => {
    if (req.method === "initialize") {
      return { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: {} };
    }
    if (req.method === "tools/list") {
      return req.params?.cursor === "p2"
        ? { tools: [tool("b")] }
        : { tools: [tool("a")], nextCursor: "p2" };
    }
    return {};
  });
  await settle();
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["a", "b"]);
  const status = h.supervisor.status();
  assert.equal(status.connected, true);
  assert.equal(status.toolsCount, 2);
  assert.equal(status.lastError, undefined);
  h.stop.abort();
  await h.done;
  assert.equal(h.supervisor.status().phase, "stopped");
  assert.equal(h.transports[0]!.closed, true);
});

Deno.test("Supervisor refreshes tools when the TTL elapses and reports the change", async () => {
  let tools = [tool("a")];
  const h = start(() => toolServer(() => tools));
  await settle();
  const before = h.changes;
  tools = [tool("a"), tool("b")];
  await h.clock.advance(299_000);
  assert.equal(h.supervisor.tools.length, 1);
  await h.clock.advance(1_000);
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["a", "b"]);
  assert.ok(h.changes > before);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor refreshes at once on notifications/tools/list_changed", async () => {
  let tools = [tool("a")];
  const h = start(() => toolServer(() => tools));
  await settle();
  tools = [tool("z")];
  h.transports[0]!.push({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
  await settle();
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["z"]);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor marks a failed upstream down, backs off with jitter and reconnects", async () => {
  const h = start((attempt) => (attempt <= 2 ? down : toolServer(() => [tool("a")])));
  await settle();
  let status = h.supervisor.status();
  assert.equal(status.connected, false);
  assert.equal(status.phase, "backoff");
  assert.equal(status.reconnects, 1);
  assert.match(status.lastError!, /Connection refused/);
  await h.clock.advance(749);
  assert.equal(h.transports.length, 1, "waits 0.75 s (base 1 s, jitter 0.5)");
  await h.clock.advance(1);
  assert.equal(h.transports.length, 2);
  await h.clock.advance(1_500);
  status = h.supervisor.status();
  assert.equal(status.connected, true);
  assert.equal(status.reconnects, 2);
  assert.equal(status.lastError, undefined);
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["a"]);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor clears tools when the connection is lost, and they come back", async () => {
  const h = start(() => toolServer(() => [tool("a")]));
  await settle();
  assert.equal(h.supervisor.tools.length, 1);
  h.transports[0]!.fail(new Error("stream lost"));
  await settle();
  assert.equal(h.supervisor.tools.length, 0);
  assert.equal(h.supervisor.status().connected, false);
  await h.clock.advance(1_000);
  assert.equal(h.supervisor.status().connected, true);
  assert.equal(h.supervisor.tools.length, 1);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor stops for good after reconnect.max_attempts failures", async () => {
  const h = start(() => down, { max_attempts: 3, backoff_base_ms: 100, backoff_max_ms: 100 });
  await h.clock.advance(10_000);
  await h.done;
  assert.equal(h.transports.length, 3);
  assert.equal(h.supervisor.status().phase, "failed");
  await h.clock.advance(60_000);
  assert.equal(h.transports.length, 3);
});

Deno.test("Supervisor.untilConnected() rejects with the cause after the allowed attempts", async () => {
  const h = start(() => down);
  await assert.rejects(h.supervisor.untilConnected(1), /Connection refused/);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor.run() stops promptly on abort even in the middle of a backoff", async () => {
  const h = start(() => down);
  await settle();
  assert.equal(h.supervisor.status().phase, "backoff");
  h.stop.abort();
  await h.done;
  assert.equal(h.clock.sleepers, 0);
  assert.equal(h.supervisor.status().phase, "stopped");
});

Deno.test("Supervisor drops listed tools that have no name", async () => {
  const h = start(() => toolServer(() => [tool("a"), { description: "nameless" }, { name: 3 }]));
  await settle();
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["a"]);
  h.stop.abort();
  await h.done;
});
