/**
 * The scenarios of `bench/load.ts`, each starting the processes it needs and stopping them
 * when done. Paired measurements alternate their order per round (AB, BA, …) so drift of the
 * machine cancels out.
 *
 * @module
 */
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { getOnce } from "./http1_client.ts";
import {
  type LoadResults,
  MCP_GATEWAY_SIDE,
  OURS,
  OURS_MODERN,
  type PeerReport,
} from "./load_report.ts";
import type { McpProxy } from "./peers.ts";
import { MCP_GATEWAY, RUST_PEERS, shellWords, startRustPeer } from "./rust_peers.ts";
import { MODERN_VERSION } from "./raw_modern_client.ts";
import { profileMarkdown, summarizeProfileFile } from "./cpu_profile.ts";
import { pidsWithMarker, statusBytes } from "./proc_stats.ts";
import {
  callParams,
  checked,
  latencyScenario,
  measureThroughput,
  type PairedPlan,
  quiet,
  rotate,
  rounded,
  type Side,
} from "./load_paired.ts";
import { reapMarked } from "./procs.ts";
import { messageOf, parseTarget, RawMcpSession } from "./raw_mcp_session.ts";
import {
  fastStdioCommand,
  type FastUpstream,
  type GatewayProc,
  gatewayYaml,
  type Loadgen,
  startFastUpstream,
  startGateway,
  startLoadgen,
  startMcpProxy,
  startPassthrough,
} from "./services.ts";
import { round, summarize } from "./stats.ts";

/** What to run and how long. */
export interface Plan extends PairedPlan {
  quick: boolean;
  listCalls: number;
  coldRuns: number;
  sessions: number;
  settleMs: number;
  stdioRounds: number;
  profileMs: number;
  wants(scenario: string): boolean;
  mcpProxy: McpProxy | undefined;
  /** The Rust peers: measured when they have a binary, reported either way. */
  peers: PeerReport[];
  /** Another checkout whose gateway is measured too, as side "candidate" (A/B of a change). */
  candidate: string | undefined;
  resultsDir: string;
  /** After creating the idle sessions, wait up to this long for the RSS to settle (0: do not). */
  memSettleMaxMs: number;
  log(text: string): void;
}

type Measured = Omit<LoadResults, "meta" | "targets" | "comparisons">;

const MB = 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every scenario the plan wants, in a fixed order. */
export async function runScenarios(plan: Plan): Promise<Measured> {
  const out: Measured = {};
  const lg = await startLoadgen();
  const up = await startFastUpstream({ tools: 5 });
  const yaml = gatewayYaml([{ name: "fast", url: up.url }]);

  if (plan.wants("latency") || plan.wants("throughput")) {
    await directScenarios(lg, plan, up, yaml, out);
  }
  if (plan.wants("list")) out.list = await listScenario(lg, plan);
  if (plan.wants("cold")) out.cold = await coldScenario(plan);
  if (plan.wants("memory")) out.memory = await memoryScenario(lg, plan, yaml);
  if (plan.wants("stdio")) out.stdio = await stdioScenario(lg, plan);
  if (plan.wants("profile")) out.profile = await profileScenario(lg, plan, yaml);

  await up.proc.stop();
  await lg.run({ op: "exit" }).catch(() => {});
  await lg.proc.stop();
  return out;
}

/**
 * Latency (one client) and throughput (many) of every side in front of the same upstream:
 * direct, the bare pass-through, our gateway, a candidate checkout and the Rust peers that
 * start; a peer that does not start is reported with the reason.
 */
async function directScenarios(
  lg: Loadgen,
  plan: Plan,
  up: FastUpstream,
  yaml: string,
  out: Measured,
): Promise<void> {
  const upstream = up.proc.pid;
  const stops: Array<() => Promise<void>> = [];
  const sides: Record<string, Side> = {
    direct: { label: "direct", url: up.url, tool: "tool_0", watch: { upstream } },
  };
  try {
    const pt = await startPassthrough(up.url);
    stops.push(() => pt.proc.stop());
    sides.passthrough = {
      label: "bare `Deno.serve` + `fetch` pass-through",
      url: pt.url,
      tool: "tool_0",
      watch: { proxy: pt.proc.pid, upstream },
    };
    const gateway = async (label: string, root?: string): Promise<Side> => {
      const gw = await startGateway(yaml, root === undefined ? {} : { root, name: label });
      stops.push(() => gw.proc.stop());
      await untilConnected(gw, 1, 5);
      return { label, url: gw.url, tool: "fast__tool_0", watch: { proxy: gw.proc.pid, upstream } };
    };
    sides[OURS] = await gateway(`mcpstead ${denoJson.version} (ours)`);
    // The same gateway, called the 2026-07-28 way: no session, the envelope in every request.
    sides[OURS_MODERN] = {
      ...sides[OURS],
      label: `mcpstead ${denoJson.version} (ours), sessionless ${MODERN_VERSION} clients`,
      era: MODERN_VERSION,
    };
    if (plan.candidate !== undefined) {
      sides.candidate = await gateway(`candidate ${plan.candidate}`, plan.candidate);
      sides.candidate_modern = {
        ...sides.candidate,
        label: `candidate ${plan.candidate}, sessionless ${MODERN_VERSION} clients`,
        era: MODERN_VERSION,
      };
    }
    out.peers = [];
    for (const report of plan.peers) {
      const peer = RUST_PEERS.find((p) => p.key === report.key)!;
      out.peers.push(report);
      if (report.bin === undefined) continue;
      try {
        const started = await startRustPeer(peer, report.bin, (port) => peer.config(port, up.url));
        stops.push(() => started.proc.stop());
        sides[peer.key] = {
          label: peer.label,
          url: started.url,
          tool: peer.tool,
          watch: { proxy: started.proc.pid, upstream },
        };
      } catch (error) {
        report.skipped = `cannot start: ${String((error as Error).message).slice(0, 400)}`;
        plan.log(`${peer.label}: ${report.skipped}`);
      }
    }
    const names = Object.keys(sides).join(", ");
    if (plan.wants("latency")) {
      plan.log(`latency: ${plan.rounds} rounds × ${plan.seqCalls} sequential calls: ${names}`);
      out.latency = await latencyScenario(lg, plan, sides, "direct");
    }
    if (plan.wants("throughput")) {
      plan.log(
        `throughput: ${plan.rounds} rounds × ${plan.durationMs} ms, ${plan.clients} sessions: ${names}`,
      );
      out.throughput = await measureThroughput(lg, plan, plan.rounds, sides, "direct");
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

async function listScenario(lg: Loadgen, plan: Plan): Promise<NonNullable<Measured["list"]>> {
  const upstreams = 20;
  const toolsEach = 50;
  plan.log(
    `list: tools/list over ${upstreams} upstreams × ${toolsEach} tools, ${plan.listCalls} calls`,
  );
  const up = await startFastUpstream({ tools: toolsEach, name: "fast upstream (50 tools)" });
  const servers = Array.from({ length: upstreams }, (_, i) => ({ name: `s${i + 1}`, url: up.url }));
  // One page holds the whole list, so one call lists every tool (the default page is 500).
  const gw = await startGateway(gatewayYaml(servers, "mcp:\n  page_size: 1000\n"));
  try {
    await untilConnected(gw, upstreams, upstreams * toolsEach);
    const session = await RawMcpSession.open(parseTarget(gw.url));
    const answer = await session.request("tools/list", "{}");
    await session.close();
    const listed = (messageOf(answer).result as { tools: unknown[] }).tools.length;
    const res = checked(
      await lg.run({
        op: "calls",
        url: gw.url,
        clients: 1,
        method: "tools/list",
        params: "{}",
        warmupCalls: Math.min(50, plan.listCalls),
        calls: plan.listCalls,
      }),
      "list",
    );
    return {
      upstreams,
      toolsEach,
      toolsListed: listed,
      bytes: answer.body.length,
      latency: rounded(summarize(res.latenciesMs!)),
    };
  } finally {
    await gw.proc.stop();
    await up.proc.stop();
  }
}

async function coldScenario(plan: Plan): Promise<NonNullable<Measured["cold"]>> {
  const upstreams = 10;
  const delayMs = 50;
  plan.log(
    `cold start: ${plan.coldRuns} runs without upstreams, ${plan.coldRuns} with ${upstreams} × ${delayMs} ms upstreams`,
  );
  const listeningMs: number[] = [];
  const healthMs: number[] = [];
  for (let i = 0; i < plan.coldRuns; i++) {
    const gw = await startGateway(gatewayYaml([]));
    for (let tries = 0; tries < 10_000; tries++) {
      const res = await getOnce(`${gw.base}/health`).catch(() => undefined);
      if (res?.status === 200) break;
      await sleep(1);
    }
    healthMs.push(round(performance.now() - gw.spawnedAt, 2));
    listeningMs.push(round(gw.listeningMs, 2));
    await gw.proc.stop();
  }
  const up = await startFastUpstream({ tools: 50, delayMs, name: "slow upstream" });
  const servers = Array.from({ length: upstreams }, (_, i) => ({ name: `u${i + 1}`, url: up.url }));
  const firstToolMs: number[] = [];
  const allToolsMs: number[] = [];
  try {
    for (let i = 0; i < plan.coldRuns; i++) {
      const gw = await startGateway(gatewayYaml(servers));
      const session = await RawMcpSession.open(parseTarget(gw.url));
      let first: number | undefined;
      for (let tries = 0; tries < 20_000; tries++) {
        const res = await session.request("tools/list", "{}");
        const count = (messageOf(res).result as { tools: unknown[] }).tools.length;
        const now = performance.now() - gw.spawnedAt;
        if (count > 0) first ??= now;
        if (count >= upstreams * 50) {
          allToolsMs.push(round(now, 2));
          break;
        }
        await sleep(1);
      }
      firstToolMs.push(round(first ?? NaN, 2));
      await session.close();
      await gw.proc.stop();
    }
  } finally {
    await up.proc.stop();
  }
  return {
    runs: plan.coldRuns,
    listeningMs,
    healthMs,
    firstToolMs,
    allToolsMs,
    upstreams,
    upstreamDelayMs: delayMs,
  };
}

async function memoryScenario(
  lg: Loadgen,
  plan: Plan,
  yaml: string,
): Promise<NonNullable<Measured["memory"]>> {
  plan.log(`memory: idle RSS, then ${plan.sessions} idle sessions`);
  const gw = await startGateway(yaml);
  try {
    await untilConnected(gw, 1, 5);
    await sleep(plan.settleMs);
    const idle = statusBytes(gw.proc.pid)!;
    const res = checked(
      await lg.run({ op: "sessions", url: gw.url, count: plan.sessions, concurrency: 8 }),
      "sessions",
    );
    await sleep(plan.settleMs);
    const loaded = statusBytes(gw.proc.pid)!;
    const health = JSON.parse(new TextDecoder().decode((await getOnce(`${gw.base}/health`)).body));
    // V8 keeps the heap it grew for the burst of 10k initializes until its memory reducer runs
    // (after some idle seconds); the settled figure is what 10k idle sessions really hold.
    let settled: number | undefined;
    let settledAfterMs: number | undefined;
    if (plan.memSettleMaxMs > 0) {
      const began = performance.now();
      let stable = 0;
      let last = loaded;
      while (performance.now() - began < plan.memSettleMaxMs) {
        await sleep(1000);
        const now = statusBytes(gw.proc.pid)!;
        const dropped = now < idle + (loaded - idle) / 2;
        stable = dropped && Math.abs(now - last) < MB ? stable + 1 : 0;
        last = now;
        if (stable >= 3) break;
      }
      settled = last;
      settledAfterMs = Math.round(performance.now() - began);
    }
    return {
      idleRssMB: round(idle / MB, 1),
      sessions: plan.sessions,
      sessionsSeen: Number(health.sessions),
      rssWithSessionsMB: round(loaded / MB, 1),
      deltaMB: round((loaded - idle) / MB, 1),
      ...(settled === undefined ? {} : {
        settledRssMB: round(settled / MB, 1),
        settledDeltaMB: round((settled - idle) / MB, 1),
        settledAfterMs: settledAfterMs!,
      }),
      bytesPerSession: Math.round(((settled ?? loaded) - idle) / plan.sessions),
      createPerSecond: round(res.completed / (res.windowMs / 1000), 0),
    };
  } finally {
    await gw.proc.stop();
  }
}

async function stdioScenario(lg: Loadgen, plan: Plan): Promise<NonNullable<Measured["stdio"]>> {
  const proxy = plan.mcpProxy;
  if (!proxy) return { peer: "mcp-proxy", skipped: "mcp-proxy is not installed (--install-peers)" };
  const peer = `mcp-proxy@${proxy.version}`;
  const marker = `mcpstead-bench-stdio-${Deno.pid}-${Date.now()}`;
  const stops: Array<() => Promise<void>> = [];
  // The proxies' own command lines carry the marker too; the child is the other process.
  const childOf = (suffix: string, parent: number): Record<string, number> => {
    const pid = pidsWithMarker(`${marker}-${suffix}`).find((p) => p !== parent);
    return pid === undefined ? {} : { child: pid };
  };
  try {
    // The same child program for each, with its own marker so its CPU can be read too.
    const gw = await startGateway(
      gatewayYaml([{ name: "fast", ...fastStdioCommand(`${marker}-gw`) }]),
    );
    stops.push(() => gw.proc.stop());
    const mp = await startMcpProxy(proxy.bin, fastStdioCommand(`${marker}-peer`));
    stops.push(() => mp.proc.stop());
    await untilConnected(gw, 1, 1);
    const sides: Record<string, Side> = {
      peer: {
        label: peer,
        url: mp.url,
        tool: "tool_0",
        watch: { proxy: mp.proc.pid, ...childOf("peer", mp.proc.pid) },
      },
      [OURS]: {
        label: `mcpstead ${denoJson.version} (ours)`,
        url: gw.url,
        tool: "fast__tool_0",
        watch: { proxy: gw.proc.pid, ...childOf("gw", gw.proc.pid) },
      },
    };
    const peers = await stdioRustPeers(plan, marker, sides, stops, childOf);
    const names = Object.keys(sides);
    plan.log(`stdio: ${plan.stdioRounds} rounds on the same stdio child: ${names.join(", ")}`);
    const seq: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < plan.stdioRounds; r++) {
      for (const side of rotate(names, r)) {
        await quiet(plan);
        const res = checked(
          await lg.run({
            op: "calls",
            url: sides[side]!.url,
            clients: 1,
            method: "tools/call",
            params: callParams(sides[side]!.tool),
            warmupCalls: Math.min(plan.seqWarmup, 200),
            calls: Math.ceil(plan.seqCalls / 3),
          }),
          `stdio sequential ${side}`,
        );
        seq[side]!.push(...res.latenciesMs!);
      }
    }
    const concurrent = await measureThroughput(lg, plan, plan.stdioRounds, sides, "peer");
    return {
      peer,
      sequential: Object.fromEntries(names.map((n) => [n, rounded(summarize(seq[n]!))])),
      concurrent,
      peers,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    const left = reapMarked(marker);
    if (left > 0) plan.log(`stdio: ${left} stdio children outlived their parents and were killed`);
  }
}

/**
 * MikkoParkkola's mcp-gateway in front of the same stdio child, when it is installed; reported
 * with the reason when it is not, or does not start.
 */
async function stdioRustPeers(
  plan: Plan,
  marker: string,
  sides: Record<string, Side>,
  stops: Array<() => Promise<void>>,
  childOf: (suffix: string, parent: number) => Record<string, number>,
): Promise<PeerReport[]> {
  const known = plan.peers.find((p) => p.key === MCP_GATEWAY.key);
  const report: PeerReport = {
    key: MCP_GATEWAY.key,
    label:
      `MikkoParkkola mcp-gateway ${MCP_GATEWAY.version} (stdio backend, rate limit and cache off)`,
    crate: MCP_GATEWAY.crate,
    version: MCP_GATEWAY.version,
    ...(known?.bin === undefined
      ? { skipped: known?.skipped ?? "not installed" }
      : { bin: known.bin }),
  };
  if (report.bin === undefined) return [report];
  const child = fastStdioCommand(`${marker}-${MCP_GATEWAY_SIDE}`);
  try {
    const started = await startRustPeer(
      MCP_GATEWAY,
      report.bin,
      (port) => MCP_GATEWAY.stdioConfig!(port, shellWords(child.command, child.args)),
    );
    stops.push(() => started.proc.stop());
    sides[MCP_GATEWAY_SIDE] = {
      label: report.label,
      url: started.url,
      tool: MCP_GATEWAY.tool,
      watch: { proxy: started.proc.pid, ...childOf(MCP_GATEWAY_SIDE, started.proc.pid) },
    };
  } catch (error) {
    report.skipped = `cannot start: ${String((error as Error).message).slice(0, 400)}`;
    plan.log(`${report.label}: ${report.skipped}`);
  }
  return [report];
}

async function profileScenario(
  lg: Loadgen,
  plan: Plan,
  yaml: string,
): Promise<NonNullable<Measured["profile"]>> {
  plan.log(
    `profile: gateway under ${plan.clients}-session load for ${plan.profileMs} ms with --cpu-prof`,
  );
  const dir = await Deno.makeTempDir({ prefix: "mcpstead-prof-" });
  const gw = await startGateway(yaml, { cpuProfDir: dir, name: "gateway (profiled)" });
  try {
    await untilConnected(gw, 1, 5);
    checked(
      await lg.run({
        op: "calls",
        url: gw.url,
        clients: plan.clients,
        method: "tools/call",
        params: callParams("fast__tool_0"),
        warmupMs: 300,
        durationMs: plan.profileMs,
        samples: false,
      }),
      "profile",
    );
  } finally {
    await gw.proc.stop(15_000);
  }
  const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`Cannot profile: the gateway wrote no .cpuprofile into ${dir}`);
  await Deno.mkdir(plan.resultsDir, { recursive: true });
  const kept = join(plan.resultsDir, "gateway.cpuprofile");
  await copyFile(join(dir, file.name), kept);
  await Deno.remove(dir, { recursive: true });
  const summary = await summarizeProfileFile(kept, 20);
  return { file: kept, markdown: profileMarkdown(summary), top: summary.top, areas: summary.areas };
}

/** Waits until `/health` shows `servers` connected upstreams with at least `tools` tools. */
async function untilConnected(gw: GatewayProc, servers: number, tools: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  let last = "";
  while (performance.now() < deadline) {
    const res = await getOnce(`${gw.base}/health`).catch(() => undefined);
    if (res?.status === 200) {
      last = new TextDecoder().decode(res.body);
      const health = JSON.parse(last) as {
        servers: Array<{ connected: boolean; tools_count: number }>;
      };
      const count = health.servers.reduce((sum, s) => sum + s.tools_count, 0);
      if (
        health.servers.length === servers && health.servers.every((s) => s.connected) &&
        count >= tools
      ) return;
    }
    await sleep(10);
  }
  throw new Error(`Cannot benchmark: upstreams did not connect within 30 s: ${last}`);
}
