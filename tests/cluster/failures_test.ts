/**
 * Failures of a cluster under load: the store restarted (keeping its data, or not), a replica
 * killed with SIGKILL; and a client's rate limit that holds across replicas.
 */
import assert from "node:assert/strict";
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import { initialize, postJsonRpc, PROTOCOL_VERSION } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { Client, ElicitRequestSchema, StreamableHTTPClientTransport } from "../_support/sdk.ts";
import { requireTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import {
  clusterYaml,
  roundRobinFetch,
  spawnReplicas,
  startRedis,
  startReplicas,
} from "./_harness.ts";

/** Calls a__echo in `sessionId` through `url`; the status and the JSON-RPC answer (or text). */
async function echo(url: string, sessionId: string, id: number) {
  const res = await postJsonRpc(url, {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "a__echo", arguments: { text: String(id) } },
  }, {
    "mcp-session-id": sessionId,
    "mcp-protocol-version": PROTOCOL_VERSION,
    accept: "application/json",
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** Runs `sessions` clients calling through `urls()` in turn until `stop` aborts; tallies outcomes. */
function load(urls: () => readonly string[], sessions: string[], stop: AbortSignal) {
  const tally = new Map<string, number>();
  const note = (outcome: string) => tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  let turn = 0;
  const done = Promise.all(sessions.map(async (sessionId) => {
    for (let id = 1; !stop.aborted && id < 2000; id++) {
      const all = urls();
      try {
        const { status, text } = await echo(all[turn++ % all.length]!, sessionId, id);
        const ok = status === 200 && JSON.parse(text).result?.content?.[0]?.text === `a:${id}`;
        note(ok ? "ok" : `${status} ${text}`);
      } catch (error) {
        note(`connection: ${(error as Error).message.slice(0, 40)}`);
      }
    }
  }));
  return { tally, done };
}

const healthOf = async (base: string) => await (await fetch(`${base}/health`)).json();

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a store restart that keeps its data loses no session; errors meanwhile are clear",
  async fn({ "redis-server": redisServer }) {
    const dir = await Deno.makeTempDir({ prefix: "mcpstead-redis-" });
    await using redis = await startRedis(redisServer, dir);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const bases = replicas.gateways.map((g) => g.base);
    const sessions = await Promise.all(
      [0, 1, 2, 0, 1, 2].map(async (i) => (await initialize(replicas.urls[i]!)).sessionId),
    );
    // Every replica has seen every session before the store goes away.
    for (const url of replicas.urls) for (const s of sessions) await echo(url, s, 0);
    const stop = new AbortController();
    const running = load(() => replicas.urls, sessions, stop.signal);

    await redis.stop();
    await waitFor(
      async () =>
        (await Promise.all(bases.map(healthOf))).every((h) => h.cluster.status === "degraded"),
      "every replica to report the store unreachable",
    );
    const health = await healthOf(bases[0]!);
    assert.equal(health.status, "degraded");
    assert.equal(health.cluster.store, "unreachable");
    const refused = await postJsonRpc(replicas.urls[1]!, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "x" } },
    });
    assert.equal(refused.status, 503);
    assert.match(
      (await refused.json()).error.message,
      /^Service Unavailable: Cannot open the session: the cluster store \(Redis\) is unreachable \(not connected\); retry shortly$/,
    );
    // A 2026-07-28 client needs no shared state for a tool call.
    const modern = new ModernClient({ name: "modern", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    await modern.connect(new ModernTransport(new URL(replicas.urls[2]!)));
    const result = await modern.callTool({ name: "a__echo", arguments: { text: "no store" } });
    assert.deepEqual(result.content, [{ type: "text", text: "a:no store" }]);
    await modern.close();

    await redis.start();
    await waitFor(
      async () => (await Promise.all(bases.map(healthOf))).every((h) => h.cluster.status === "ok"),
      "every replica to recover",
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    stop.abort();
    await running.done;
    assert.deepEqual([...running.tally.keys()], ["ok"], JSON.stringify([...running.tally]));
    for (const s of sessions) {
      for (const url of replicas.urls) assert.equal((await echo(url, s, 7)).status, 200);
    }
    await initialize(replicas.urls[0]!);
    const metrics = await (await fetch(`${bases[1]}/metrics`)).text();
    assert.match(metrics, /^mcpstead_cluster_store_errors_total\{op="admit"\} [1-9]/m);
    assert.match(metrics, /^mcpstead_cluster_store_round_trips_total\{op="heartbeat"\} [1-9]/m);
    assert.match(metrics, /^mcpstead_cluster_store_connected 1$/m);
    assert.match(metrics, /^mcpstead_cluster_replicas 3$/m);
    await Deno.remove(dir, { recursive: true });
  },
}));

Deno.test(requireTool(["redis-server"], {
  name:
    "cluster: after a store restart that lost its data, old sessions answer 404 and new ones work",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const bases = replicas.gateways.map((g) => g.base);
    const { sessionId } = await initialize(replicas.urls[0]!);
    for (const url of replicas.urls) assert.equal((await echo(url, sessionId, 1)).status, 200);
    await redis.stop();
    await redis.start();
    await waitFor(
      async () => (await Promise.all(bases.map(healthOf))).every((h) => h.cluster.status === "ok"),
      "every replica to recover",
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    await waitFor(
      async () =>
        (await Promise.all(replicas.urls.map((url) => echo(url, sessionId, 2)))).every((r) =>
          r.status === 404
        ),
      "the lost session to be unknown everywhere",
    );
    const again = await initialize(replicas.urls[1]!);
    for (const url of replicas.urls) {
      assert.equal((await echo(url, again.sessionId, 3)).status, 200);
    }
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a replica SIGKILLed under load loses only its calls in flight",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await spawnReplicas(
      `host: 127.0.0.1\n${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const bases = replicas.urls.map((url) => url.replace(/\/mcp$/, ""));
    await waitFor(
      async () =>
        (await Promise.all(bases.map(healthOf))).every((h) =>
          h.cluster.replicas.length === 3 && h.servers[0].connected
        ),
      "the replicas to see each other",
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const sessions = await Promise.all(
      Array.from(
        { length: 12 },
        async (_, i) => (await initialize(replicas.urls[i % 3]!)).sessionId,
      ),
    );
    let alive = replicas.urls;
    const stop = new AbortController();
    const before = load(() => alive, sessions, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 500));
    replicas.processes[0]!.child.kill("SIGKILL");
    alive = replicas.urls.slice(1);
    stop.abort();
    await before.done;
    // Only calls that were on the killed replica failed, with their connection.
    for (const outcome of before.tally.keys()) assert.match(outcome, /^(ok|connection: .*)$/);
    const after = new AbortController();
    const survivors = load(() => alive, sessions, after.signal);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    after.abort();
    await survivors.done;
    assert.deepEqual([...survivors.tally.keys()], ["ok"], JSON.stringify([...survivors.tally]));
    assert.ok(survivors.tally.get("ok")! > 24);
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a client's burst through three replicas gets as many 200s as through one",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}mcp:\n  rate_limit:\n    requests_per_second: 1\n    burst: 10\n` +
        `servers:\n${upstream("a", fixture.url)}`,
    );
    const burst = async (urls: readonly string[]) => {
      const { sessionId } = await initialize(urls[0]!);
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => echo(urls[i % urls.length]!, sessionId, i + 1)),
      );
      return answers.filter((a) => a.status === 200).length;
    };
    const one = await burst(replicas.urls.slice(0, 1));
    const three = await burst(replicas.urls);
    assert.ok(one >= 10 && one <= 12, `${one} calls passed through one replica`);
    assert.ok(Math.abs(three - one) <= 2, `${three} through three, ${one} through one`);
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: replicas started while the store is down serve once it comes up",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await redis.stop();
    await using fixture = await startHttpFixture({ name: "a" });
    const yaml = `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`;
    // Each waits up to 3 s for the store at start, then goes on degraded.
    const [one, two] = await Promise.all([startGateway(yaml), startGateway(yaml)]);
    await using first = one;
    await using second = two;
    assert.equal(first.gateway.health().cluster?.status, "degraded");
    const refused = await postJsonRpc(first.url, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "x" } },
    });
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
    await redis.start();
    await waitFor(
      () =>
        [first, second].every((g) =>
          g.gateway.health().cluster?.status === "ok" &&
          (g.gateway.health().cluster?.replicas as unknown[]).length === 2
        ),
      "both replicas to join",
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    // The bus works on both: an answer POSTed to one reaches the call waiting on the other.
    const client = new Client({ name: "rr-client", version: "1.0.0" }, {
      capabilities: { elicitation: {} },
    });
    client.setRequestHandler(ElicitRequestSchema, () => ({
      action: "accept",
      content: { answer: "yes" },
    }));
    const robin = roundRobinFetch([first.url, second.url]);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(first.url), { fetch: robin.fetch }),
    );
    for (let i = 0; i < 2; i++) {
      const result = await client.callTool({ name: "a__elicit", arguments: { message: "q" } });
      assert.deepEqual(result.content, [{ type: "text", text: "a:accept:yes" }]);
    }
    await client.close();
  },
}));
