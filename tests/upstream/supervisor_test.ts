import assert from "node:assert/strict";
import type { JsonObject } from "../../src/mcp/jsonrpc.ts";
import { silentLogger } from "../../src/log.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import { GatewayError } from "../../src/mcp/errors.ts";
import { type SupervisedConfig, Supervisor } from "../../src/upstream/supervisor.ts";
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
  config: Partial<SupervisedConfig> = {},
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
      ...config,
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

Deno.test("Supervisor keeps a lost upstream's tools, marked stale, and answers its calls upstream_unavailable", async () => {
  const h = start(() => toolServer(() => [tool("a")]));
  await settle();
  assert.equal(h.supervisor.tools.length, 1);
  assert.equal(h.supervisor.status().stale, false);
  h.transports[0]!.fail(new Error("stream lost"));
  await settle();
  assert.deepEqual(h.supervisor.tools.map((t) => t.name), ["a"]);
  const status = h.supervisor.status();
  assert.equal(status.connected, false);
  assert.equal(status.stale, true);
  await assert.rejects(
    h.supervisor.request("tools/call", { name: "a" }, {}),
    (error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, "upstream_unavailable");
      assert.equal(error.retryAfterMs, 750);
      assert.equal(
        error.message,
        "Cannot reach upstream 'up' now: it is down and reconnecting (next attempt in 750 ms); " +
          "last error: stream lost",
      );
      return true;
    },
  );
  await h.clock.advance(1_000);
  assert.equal(h.supervisor.status().connected, true);
  assert.equal(h.supervisor.status().stale, false);
  assert.equal(h.supervisor.tools.length, 1);
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor brings a long backoff forward to backoff_base_ms when a call asks for the upstream", async () => {
  const h = start((attempt) => (attempt <= 3 ? down : toolServer(() => [tool("a")])));
  await settle();
  await h.clock.advance(750);
  await h.clock.advance(1_500);
  assert.equal(h.transports.length, 3);
  assert.equal(h.supervisor.status().backoffMs, 3_000, "the third failure waits 3 s");
  await h.clock.advance(400);
  await assert.rejects(h.supervisor.request("tools/call", { name: "a" }, {}), {
    code: "upstream_unavailable",
    retryAfterMs: 600,
  });
  await h.clock.advance(599);
  assert.equal(h.transports.length, 3);
  await h.clock.advance(1);
  assert.equal(h.transports.length, 4, "the attempt came 1 s after the last one, not 3 s");
  assert.equal(h.supervisor.status().connected, true);
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

const BREAKER = { circuit_breaker: { failures: 2, window_seconds: 60, open_seconds: 30 } };
const failing = (error: () => Error): Script =>
  toolServer(() => [tool("a")], (request) => {
    if (request.method === "tools/call") throw error();
    return undefined;
  });
const http502 = () => new GatewayError("upstream_http_error", "up", "HTTP 502", { status: 502 });

Deno.test("Supervisor closes an open circuit when the upstream reconnects", async () => {
  const h = start(
    (attempt) =>
      attempt === 1 ? failing(http502) : toolServer(() => [tool("a")], () => ({ ok: true })),
    undefined,
    BREAKER,
  );
  await settle();
  const call = () => h.supervisor.request("tools/call", { name: "a" }, {});
  await assert.rejects(call(), { code: "upstream_http_error" });
  await assert.rejects(call(), { code: "upstream_http_error" });
  await assert.rejects(call(), { code: "upstream_circuit_open" });
  assert.equal(h.supervisor.circuit, "open");
  h.transports[0]!.fail(new Error("restarted"));
  await h.clock.advance(1_000);
  assert.equal(h.supervisor.status().connected, true);
  assert.equal(h.supervisor.circuit, "closed");
  assert.deepEqual(await call(), { ok: true });
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor ends every half-open probe: a cancelled one frees the slot, a 4xx closes the circuit", async () => {
  let mode: "502" | "hang" | "404" | "ok" = "502";
  const h = start(
    () =>
      toolServer(() => [tool("a")], (request) => {
        if (request.method !== "tools/call") return undefined;
        if (mode === "502") throw http502();
        if (mode === "404") {
          throw new GatewayError("upstream_http_error", "up", "HTTP 404", { status: 404 });
        }
        if (mode === "ok") return { ok: true };
        return new Promise(() => {});
      }),
    undefined,
    BREAKER,
  );
  await settle();
  const call = (signal?: AbortSignal) =>
    h.supervisor.request("tools/call", { name: "a" }, signal ? { signal } : {});
  await assert.rejects(call(), { code: "upstream_http_error" });
  await assert.rejects(call(), { code: "upstream_http_error" });
  await h.clock.advance(30_000);
  assert.equal(h.supervisor.circuit, "half_open");
  mode = "hang";
  const cancel = new AbortController();
  const probe = call(cancel.signal);
  await settle();
  cancel.abort(new Error("the client cancelled"));
  await assert.rejects(probe, { code: "upstream_cancelled" });
  mode = "404";
  await assert.rejects(call(), { code: "upstream_http_error", status: 404 });
  assert.equal(h.supervisor.circuit, "closed", "an answer, even a 4xx, shows the upstream works");
  mode = "ok";
  assert.deepEqual(await call(), { ok: true });
  h.stop.abort();
  await h.done;
});

Deno.test("Supervisor lets an open circuit probe at once when a health check succeeds", async () => {
  let calls = 0;
  const h = start(
    () =>
      toolServer(() => [tool("a")], (request) => {
        if (request.method !== "tools/call") return undefined;
        if (++calls <= 2) throw new GatewayError("upstream_unreachable", "up", "reset");
        return { ok: true };
      }),
    undefined,
    BREAKER,
  );
  await settle();
  const call = () => h.supervisor.request("tools/call", { name: "a" }, {});
  await assert.rejects(call(), { code: "upstream_unreachable" });
  await assert.rejects(call(), { code: "upstream_unreachable" });
  await settle();
  assert.ok(h.transports[0]!.methods().includes("ping"), "the failures woke a health check");
  assert.equal(h.supervisor.circuit, "half_open", "the open time ended with the check");
  assert.deepEqual(await call(), { ok: true });
  assert.equal(h.supervisor.circuit, "closed");
  h.stop.abort();
  await h.done;
});
