/**
 * The results of `bench/load.ts`: their JSON shape, the DESIGN §7 targets they are checked
 * against, and the Markdown table printed at the end of a run.
 *
 * @module
 */
import { fmt, fmtInt, type Summary } from "./stats.ts";

/** Sequential latency, one client, direct vs through the gateway. */
export interface LatencyResult {
  rounds: number;
  callsPerRound: number;
  direct: Summary;
  /** The bare `Deno.serve` + `fetch` pass-through (the DESIGN §7 floor). */
  passthrough: Summary;
  gateway: Summary;
  /** Pooled gateway p50 − direct p50 (and p99), ms. */
  addedP50: number;
  addedP99: number;
  /** Median over rounds of the paired per-round p50 differences, ms. */
  addedP50Paired: number;
  passthroughAddedP50: number;
  passthroughAddedP99: number;
  /** The gateway of another checkout (`--candidate`), when measured. */
  candidate?: Summary;
  candidateAddedP50?: number;
  candidateAddedP99?: number;
  /** p50 of each side per round, ms. */
  perRound: Array<{ direct: number; passthrough: number; gateway: number; candidate?: number }>;
}

/** One side of a concurrent run. */
export interface ThroughputSide {
  /** Median over rounds of calls per second. */
  rps: number;
  perRound: number[];
  latency: Summary;
  errors: number;
  /** CPU µs per completed call, per process (gateway, upstream, loadgen; `machine` = all cores). */
  cpuPerCallUs: Record<string, number>;
  /** Cores used during the window, per process; `other` = everything else on the machine. */
  cores: Record<string, number>;
}

/** Concurrent sessions, direct (or a peer) vs through the gateway. */
export interface ThroughputResult {
  rounds: number;
  clients: number;
  durationMs: number;
  baseline: ThroughputSide;
  gateway: ThroughputSide;
  /** Median of per-round gateway / baseline throughput. */
  ratio: number;
  /** The bare pass-through, when measured, and its ratio to the baseline. */
  passthrough?: ThroughputSide;
  passthroughRatio?: number;
  /** The gateway of another checkout (`--candidate`), when measured. */
  candidate?: ThroughputSide;
  candidateRatio?: number;
}

/** Everything one run measured; absent parts were skipped. */
export interface LoadResults {
  meta: Record<string, unknown>;
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  list?: {
    upstreams: number;
    toolsEach: number;
    toolsListed: number;
    bytes: number;
    latency: Summary;
  };
  cold?: {
    runs: number;
    listeningMs: number[];
    healthMs: number[];
    firstToolMs: number[];
    allToolsMs: number[];
    upstreams: number;
    upstreamDelayMs: number;
  };
  memory?: {
    idleRssMB: number;
    sessions: number;
    sessionsSeen: number;
    /** RSS 1–2 s after the sessions were created (V8 still holds the heap of the burst). */
    rssWithSessionsMB: number;
    deltaMB: number;
    /** RSS once V8's memory reducer ran (full mode only). */
    settledRssMB?: number;
    settledDeltaMB?: number;
    settledAfterMs?: number;
    /** RSS added per session (settled when measured). */
    bytesPerSession: number;
    createPerSecond: number;
  };
  stdio?: {
    peer: string;
    skipped?: string;
    sequential?: { gateway: Summary; peer: Summary };
    concurrent?: ThroughputResult;
  };
  profile?: { file: string; markdown: string; top: unknown[]; areas: unknown[] };
  targets: Target[];
}

/** One DESIGN §7 target and whether it was met. */
export interface Target {
  what: string;
  value: number | undefined;
  unit: string;
  limit: string;
  met: boolean | undefined;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
    ? s[s.length >> 1]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Checks the results against DESIGN §7. */
export function evaluateTargets(r: LoadResults): Target[] {
  const at = (
    what: string,
    value: number | undefined,
    unit: string,
    op: "<=" | ">=",
    limit: number,
  ): Target => ({
    what,
    value,
    unit,
    limit: `${op} ${limit}`,
    met: value === undefined || !Number.isFinite(value)
      ? undefined
      : op === "<="
      ? value <= limit
      : value >= limit,
  });
  return [
    at("gateway-added p50, tools/call, 1 sequential client", r.latency?.addedP50, "ms", "<=", 0.25),
    at("gateway-added p99, tools/call, 1 sequential client", r.latency?.addedP99, "ms", "<=", 1.5),
    at("throughput with 32 sessions, gateway / direct", r.throughput?.ratio, "×", ">=", 0.25),
    at(
      "stdio calls/s, gateway / mcp-proxy (32 sessions)",
      r.stdio?.concurrent?.ratio,
      "×",
      ">=",
      10,
    ),
    at("tools/list over 20 × 50 tools, p50", r.list?.latency.p50, "ms", "<=", 2),
    at("idle RSS", r.memory?.idleRssMB, "MB", "<=", 80),
    at(
      r.memory?.settledDeltaMB === undefined
        ? "RSS added by 10,000 idle sessions (right after creating them)"
        : "RSS added by 10,000 idle sessions (settled)",
      r.memory?.settledDeltaMB ?? r.memory?.deltaMB,
      "MB",
      "<=",
      50,
    ),
    at(
      "start → /health 200, no upstreams (median)",
      r.cold ? median(r.cold.healthMs) : undefined,
      "ms",
      "<=",
      300,
    ),
  ];
}

/** The results as Markdown: one table of measurements, one of targets. */
export function renderMarkdown(r: LoadResults): string {
  const rows: string[][] = [];
  const row3 = (...cells: [string, string, string, string, string]) => rows.push(cells);
  const row = (label: string, baseline: string, gateway: string, difference: string) =>
    rows.push([label, baseline, "", gateway, difference]);
  const pair = (side: ThroughputSide) =>
    `${fmt(side.latency.p50, 2)} / ${fmt(side.latency.p99, 2)}`;
  const gen = (side: ThroughputSide) =>
    `${fmt(side.cpuPerCallUs.loadgen, 1)} / ${fmt(side.cores.loadgen, 2)}`;
  const l = r.latency;
  if (l) {
    row3(
      "tools/call, 1 sequential client: p50 (ms)",
      fmt(l.direct.p50),
      fmt(l.passthrough.p50),
      fmt(l.gateway.p50),
      `+${fmt(l.addedP50)} (paired ${fmt(l.addedP50Paired)}); pass-through +${
        fmt(l.passthroughAddedP50)
      }`,
    );
    row3(
      "tools/call, 1 sequential client: p99 (ms)",
      fmt(l.direct.p99),
      fmt(l.passthrough.p99),
      fmt(l.gateway.p99),
      `+${fmt(l.addedP99)}; pass-through +${fmt(l.passthroughAddedP99)}`,
    );
  }
  const t = r.throughput;
  if (t) {
    const p = t.passthrough;
    row3(
      `tools/call, ${t.clients} sessions: calls/s`,
      fmtInt(t.baseline.rps),
      fmtInt(p?.rps),
      fmtInt(t.gateway.rps),
      `${fmt(t.ratio, 2)}× direct (pass-through ${fmt(t.passthroughRatio, 2)}×)`,
    );
    row3(
      `tools/call, ${t.clients} sessions: p50 / p99 (ms)`,
      pair(t.baseline),
      p ? pair(p) : "",
      pair(t.gateway),
      "",
    );
    row3(
      "proxy CPU per call (µs)",
      "",
      fmt(p?.cpuPerCallUs.passthrough, 1),
      fmt(t.gateway.cpuPerCallUs.gateway, 1),
      `gateway ${fmt(t.gateway.cores.gateway, 2)} cores`,
    );
    row3(
      "upstream CPU per call (µs)",
      fmt(t.baseline.cpuPerCallUs.upstream, 1),
      fmt(p?.cpuPerCallUs.upstream, 1),
      fmt(t.gateway.cpuPerCallUs.upstream, 1),
      "",
    );
    row3(
      "load generator: CPU per call (µs) / cores",
      gen(t.baseline),
      p ? gen(p) : "",
      gen(t.gateway),
      "separate process",
    );
    row3(
      "other processes on the machine (cores)",
      fmt(t.baseline.cores.other, 2),
      fmt(p?.cores.other, 2),
      fmt(t.gateway.cores.other, 2),
      "should be ≈ 0",
    );
  }
  if (r.list) {
    row(
      `tools/list, ${r.list.upstreams} upstreams × ${r.list.toolsEach} tools (${r.list.toolsListed} listed, ${
        fmtInt(r.list.bytes)
      } B): p50 / p99 (ms)`,
      "",
      `${fmt(r.list.latency.p50)} / ${fmt(r.list.latency.p99)}`,
      "",
    );
  }
  const c = r.cold;
  if (c) {
    row(
      `start → "listening" log line, no upstreams (ms, median of ${c.runs})`,
      "",
      fmt(median(c.listeningMs), 1),
      `min ${fmt(Math.min(...c.listeningMs), 1)}`,
    );
    row(
      `start → /health 200, no upstreams (ms, median of ${c.runs})`,
      "",
      fmt(median(c.healthMs), 1),
      `min ${fmt(Math.min(...c.healthMs), 1)}`,
    );
    row(
      `start → first tool listed, ${c.upstreams} upstreams × ${c.upstreamDelayMs} ms (ms)`,
      "",
      fmt(median(c.firstToolMs), 1),
      "",
    );
    row(
      `start → all ${c.upstreams} upstreams' tools listed (ms)`,
      "",
      fmt(median(c.allToolsMs), 1),
      "",
    );
  }
  const m = r.memory;
  if (m) {
    row("gateway RSS, idle (MB)", "", fmt(m.idleRssMB, 1), "");
    row(
      `gateway RSS with ${fmtInt(m.sessions)} idle sessions, just created (MB)`,
      "",
      fmt(m.rssWithSessionsMB, 1),
      `+${fmt(m.deltaMB, 1)} (${fmtInt(m.createPerSecond)} sessions/s created)`,
    );
    if (m.settledRssMB !== undefined) {
      row(
        `gateway RSS with ${fmtInt(m.sessions)} idle sessions, settled (MB)`,
        "",
        fmt(m.settledRssMB, 1),
        `+${fmt(m.settledDeltaMB, 1)} (${fmtInt(m.bytesPerSession)} B/session) after ${
          fmt((m.settledAfterMs ?? NaN) / 1000, 0)
        } s`,
      );
    }
  }
  const s = r.stdio;
  if (s?.skipped) row(`stdio upstream: gateway vs ${s.peer}`, "skipped", "", s.skipped);
  if (s?.sequential) {
    row(
      `stdio, 1 sequential client: p50 (ms) — baseline = ${s.peer}`,
      fmt(s.sequential.peer.p50),
      fmt(s.sequential.gateway.p50),
      `${fmt(s.sequential.peer.p50 / s.sequential.gateway.p50, 1)}× faster`,
    );
  }
  if (s?.concurrent) {
    const x = s.concurrent;
    row(
      `stdio, ${x.clients} sessions: calls/s — baseline = ${s.peer}`,
      fmtInt(x.baseline.rps),
      fmtInt(x.gateway.rps),
      `${fmt(x.ratio, 1)}×`,
    );
    row(`stdio, ${x.clients} sessions: p50 / p99 (ms)`, pair(x.baseline), pair(x.gateway), "");
    row(
      `stdio, ${x.clients} sessions: proxy / child CPU per call (µs)`,
      `${fmt(x.baseline.cpuPerCallUs.peer, 1)} / ${fmt(x.baseline.cpuPerCallUs.child, 1)}`,
      `${fmt(x.gateway.cpuPerCallUs.gateway, 1)} / ${fmt(x.gateway.cpuPerCallUs.child, 1)}`,
      `other processes ${fmt(x.baseline.cores.other, 2)} / ${fmt(x.gateway.cores.other, 2)} cores`,
    );
  }
  const cl = r.latency;
  if (cl?.candidate) {
    row(
      `candidate ${String(r.meta.candidate)}: 1 sequential client p50 / p99 (ms)`,
      "",
      `${fmt(cl.candidate.p50)} / ${fmt(cl.candidate.p99)}`,
      `+${fmt(cl.candidateAddedP50)} / +${fmt(cl.candidateAddedP99)} over direct`,
    );
  }
  const ct = r.throughput?.candidate;
  if (ct) {
    row(
      `candidate: ${r.throughput!.clients} sessions calls/s; p50 / p99 (ms)`,
      "",
      `${fmtInt(ct.rps)}; ${pair(ct)}`,
      `${fmt(r.throughput!.candidateRatio, 2)}× direct`,
    );
    row(
      "candidate: gateway CPU per call (µs)",
      "",
      fmt(ct.cpuPerCallUs.gateway, 1),
      `${fmt(ct.cores.gateway, 2)} cores`,
    );
  }
  let out =
    "| measure | baseline (direct / peer) | bare pass-through | through mcpstead | difference |\n" +
    "|---|---:|---:|---:|---|\n";
  for (const cells of rows) out += `| ${cells.join(" | ")} |\n`;
  out += "\n| DESIGN §7 target | measured | target | met |\n|---|---:|---:|:-:|\n";
  for (const target of r.targets) {
    const value = target.value === undefined
      ? "–"
      : `${fmt(target.value, target.unit === "×" ? 2 : 3)} ${target.unit}`;
    const met = target.met === undefined ? "not measured" : target.met ? "yes" : "**no**";
    out += `| ${target.what} | ${value} | ${target.limit} ${target.unit} | ${met} |\n`;
  }
  return out;
}
