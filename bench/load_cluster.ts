/**
 * `deno task bench:load --cluster N`: N gateway replicas sharing a `redis-server` (loopback,
 * persistence off), each request of each client sent to the next replica (round robin per
 * request, no balancer process in between), against one gateway process without `cluster`, in
 * front of the same minimal upstream: added latency (one sequential client), throughput (many
 * clients), and the store round trips per call, counted from the replicas' own
 * `mcpstead_cluster_store_round_trips_total`. A second cluster side runs with `mcp.rate_limit`
 * on (a limit no client reaches), whose shared bucket costs one round trip per call.
 *
 * @module
 */
import { latencyScenario, measureThroughput, type PairedPlan, type Side } from "./load_paired.ts";
import type { LatencyResult, ThroughputResult } from "./load_report.ts";
import { freePort, start } from "./procs.ts";
import {
  type GatewayProc,
  gatewayYaml,
  type Loadgen,
  startFastUpstream,
  startGateway,
} from "./services.ts";
import { fmt, fmtInt, round } from "./stats.ts";

/** What `--cluster` measured. */
export interface ClusterResults {
  replicas: number;
  latency: LatencyResult;
  throughput: ThroughputResult;
  /** Store round trips per call of each cluster side, sessions' handshakes included. */
  roundTripsPerCall: Record<string, number>;
  /** Store round trips per second that do not depend on calls (heartbeats, activity, sweeps). */
  backgroundPerSecond: number;
}

/** Operations that run on timers, whatever the traffic. */
const BACKGROUND = new Set(["heartbeat", "touch", "sweep"]);
const TOOL = "fast__tool_0";
const UNLIMITED = "mcp:\n  rate_limit:\n    requests_per_second: 1000000\n    burst: 1000000\n";

/** Runs the cluster comparison with `replicas` replicas. */
export async function clusterScenario(
  lg: Loadgen,
  plan: PairedPlan,
  replicas: number,
): Promise<ClusterResults> {
  const redisPath = await onPath("redis-server");
  const port = freePort();
  const { proc: redis } = await start({
    name: "redis-server",
    cmd: redisPath,
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ready: (line) => (line.includes("Ready to accept connections") ? true : undefined),
  });
  const up = await startFastUpstream({ tools: 5 });
  const servers = [{ name: "fast", url: up.url }];
  const cluster = (prefix: string, extra = "") =>
    gatewayYaml(
      servers,
      `cluster:\n  redis_url: redis://127.0.0.1:${port}/0\n  key_prefix: "${prefix}"\n${extra}`,
    );
  const one = await startGateway(gatewayYaml(servers), { name: "one process" });
  await untilReady([one], (health) => health.status === "ok");
  const plain = await startReplicas(cluster("bench-a:"), replicas);
  const limited = await startReplicas(cluster("bench-b:", UNLIMITED), replicas);
  const upstream = up.proc.pid;
  const side = (label: string, group: GatewayProc[]): Side => ({
    label,
    url: group.map((g) => g.url).join(","),
    tool: TOOL,
    watch: {
      ...Object.fromEntries(group.map((g, i) => [`replica${i}`, g.proc.pid])),
      redis: redis.pid,
      upstream,
    },
  });
  const sides: Record<string, Side> = {
    one: {
      label: "one process",
      url: one.url,
      tool: TOOL,
      watch: { gateway: one.proc.pid, upstream },
    },
    cluster: side(`${replicas} replicas, round robin`, plain),
    limited: side(`${replicas} replicas, round robin, mcp.rate_limit on`, limited),
  };
  try {
    const latency = await latencyScenario(lg, plan, sides, "one");
    const throughput = await measureThroughput(lg, plan, plan.rounds, sides, "one");
    const background = await backgroundRate(plain);
    return {
      replicas,
      latency,
      throughput,
      roundTripsPerCall: {
        cluster: await roundTripsPerCall(lg, plan, sides.cluster!, plain),
        limited: await roundTripsPerCall(lg, plan, sides.limited!, limited),
      },
      backgroundPerSecond: background,
    };
  } finally {
    await Promise.all([one, ...plain, ...limited].map((g) => g.proc.stop()));
    await up.proc.stop();
    await redis.stop();
  }
}

/** Starts `count` replicas of `yaml` and waits until each sees all of them and its upstream. */
async function startReplicas(yaml: string, count: number): Promise<GatewayProc[]> {
  const group: GatewayProc[] = [];
  for (let i = 0; i < count; i++) group.push(await startGateway(yaml, { name: `replica ${i}` }));
  await untilReady(
    group,
    (health) => health.status === "ok" && health.cluster?.replicas?.length === count,
  );
  return group;
}

/** Waits (up to 10 s) until every gateway's /health satisfies `ready`. */
async function untilReady(
  group: GatewayProc[],
  // deno-lint-ignore no-explicit-any -- the /health JSON as served
  ready: (health: any) => boolean,
): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const healths = await Promise.all(
      group.map(async (g) => await (await fetch(`${g.base}/health`)).json()),
    );
    if (healths.every(ready)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("Cannot start the benchmark: the gateways did not become ready in 10 s");
}

/** Sum of the replicas' store round trips by operation. */
async function roundTrips(group: GatewayProc[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const g of group) {
    const text = await (await fetch(`${g.base}/metrics`)).text();
    for (
      const m of text.matchAll(/^mcpstead_cluster_store_round_trips_total\{op="([^"]+)"\} (\d+)/gm)
    ) {
      sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
    }
  }
  return sums;
}

/** Round trips per call over a fixed run (8 sessions, their handshakes included). */
async function roundTripsPerCall(
  lg: Loadgen,
  plan: PairedPlan,
  side: Side,
  group: GatewayProc[],
): Promise<number> {
  const before = await roundTrips(group);
  const res = await lg.run({
    op: "calls",
    url: side.url,
    clients: 8,
    method: "tools/call",
    params: `{"name":"${side.tool}","arguments":{"text":"hello"}}`,
    calls: Math.max(100, Math.round(plan.seqCalls / 4)),
    samples: false,
  });
  const after = await roundTrips(group);
  let calls = 0;
  for (const [op, n] of after) if (!BACKGROUND.has(op)) calls += n - (before.get(op) ?? 0);
  return round(calls / res.completed, 4);
}

/** Round trips per second of the background loops, over two idle seconds. */
async function backgroundRate(group: GatewayProc[]): Promise<number> {
  const before = await roundTrips(group);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = await roundTrips(group);
  let n = 0;
  for (const [op, count] of after) if (BACKGROUND.has(op)) n += count - (before.get(op) ?? 0);
  return round(n / 2, 1);
}

/** The Markdown report of a cluster run. */
export function clusterMarkdown(results: ClusterResults): string {
  const { latency, throughput } = results;
  let out =
    `| side | p50 ms (1 client) | added p50 | added p99 | calls/s (${throughput.clients} clients) | vs one process | store round trips per call |\n`;
  out += "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const [name, l] of Object.entries(latency.sides)) {
    const t = throughput.sides[name]!;
    const trips = results.roundTripsPerCall[name];
    out += `| ${l.label} | ${fmt(l.latency.p50)} | ${fmt(l.addedP50)} | ${fmt(l.addedP99)} | ` +
      `${fmtInt(t.rps)} | ${t.ratio === undefined ? "" : `${fmt(t.ratio, 2)}×`} | ` +
      `${trips === undefined ? "0 (no store)" : fmt(trips, 3)} |\n`;
  }
  out += `\nBackground store round trips (heartbeats, activity, sweeps): ` +
    `${results.backgroundPerSecond} per second for the ${results.replicas} replicas.\n`;
  return out;
}

/** The absolute path of `tool` on PATH; throws how to install it when missing. */
async function onPath(tool: string): Promise<string> {
  const which = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
  const path = new TextDecoder().decode(which.stdout).trim();
  if (!which.success || path === "") {
    throw new Error(`Cannot run --cluster: ${tool} is not on PATH (apt-get install redis-server)`);
  }
  return path;
}
