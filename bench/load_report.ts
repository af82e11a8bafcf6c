/**
 * The results of `bench/load.ts`: their JSON shape, our gateway's ratios to the other sides of
 * the run, and the DESIGN §7 targets they are checked against (`load_markdown.ts` prints them).
 *
 * @module
 */
import { median, round, type Summary } from "./stats.ts";

/** One side of the sequential runs (one client): direct, the floor, a gateway or a peer. */
export interface LatencySide {
  label: string;
  /** The latency of every call of every round, pooled. */
  latency: Summary;
  /** Median over rounds of calls per second. */
  rps: number;
  /** Median over rounds of this side's calls/s ÷ the baseline's in the same round (not on the baseline). */
  rpsRatio?: number;
  /** Median over rounds of this side's p50 − the baseline's p50 in the same round, ms (not on the baseline). */
  addedP50?: number;
  /** The same for p99, ms. */
  addedP99?: number;
}

/** Sequential latency, one client per side, the sides in rotating order each round. */
export interface LatencyResult {
  rounds: number;
  callsPerRound: number;
  /** The side the others are measured against (`direct`). */
  baseline: string;
  /** Every side measured, in table order. */
  sides: Record<string, LatencySide>;
  /** Each side's p50, p99 (ms) and calls/s, per round. */
  perRound: Array<Record<string, { p50: number; p99: number; rps: number }>>;
}

/** One side of a concurrent run. */
export interface ThroughputSide {
  label: string;
  /** Median over rounds of calls per second. */
  rps: number;
  perRound: number[];
  /** Median over rounds of this side's calls/s ÷ the baseline's in the same round (not on the baseline). */
  ratio?: number;
  latency: Summary;
  errors: number;
  /**
   * CPU µs per completed call, per process: `proxy` (the gateway, floor or peer in between),
   * `upstream` or `child`, `loadgen`; `machine` = all cores.
   */
  cpuPerCallUs: Record<string, number>;
  /** Cores used during the window, per process; `other` = everything else on the machine. */
  cores: Record<string, number>;
}

/** Concurrent sessions against every side, in rotating order each round. */
export interface ThroughputResult {
  rounds: number;
  clients: number;
  durationMs: number;
  /** The side the ratios are against (`direct`, or the stdio peer). */
  baseline: string;
  sides: Record<string, ThroughputSide>;
}

/** A Rust peer of the run: measured (with its binary) or why not. */
export interface PeerReport {
  /** Its side in the latency and throughput results. */
  key: string;
  label: string;
  crate: string;
  version: string;
  bin?: string;
  /** Why it was not measured: not installed, failed to install or start, or `--no-peers`. */
  skipped?: string;
  /** How long installing it took in this run, s. */
  installSeconds?: number;
}

/** Our gateway against another side of the same run (ours ÷ theirs). */
export interface Comparison {
  against: string;
  label: string;
  /** Median over rounds of the per-round ratio of calls/s, with many clients. */
  rpsMany: number | undefined;
  /** The same with one client. */
  rpsOne: number | undefined;
  /** Our added p50 ÷ theirs (both against direct, one client). */
  addedP50: number | undefined;
  /** Our CPU per call ÷ theirs, with many clients. */
  cpuPerCall: number | undefined;
}

/** Everything one run measured; absent parts were skipped. */
export interface LoadResults {
  meta: Record<string, unknown>;
  /** The Rust peers, measured or not (never left out). */
  peers?: PeerReport[];
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
    /** One sequential client per side: `peer` (mcp-proxy), ours, and the Rust peers measured. */
    sequential?: Record<string, Summary>;
    concurrent?: ThroughputResult;
    /** The Rust peers of the stdio scenario, measured or not (never left out). */
    peers?: PeerReport[];
  };
  profile?: { file: string; markdown: string; top: unknown[]; areas: unknown[] };
  comparisons: Comparison[];
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

/** The side of our gateway in the results. */
export const OURS = "gateway";
/** Our gateway again, called by sessionless 2026-07-28 clients (DESIGN §7: no dearer than 2025). */
export const OURS_MODERN = "gateway-2026";
/** The Rust mcpstead's side, which DESIGN §7 measures us against. */
const RUST_MCPSTEAD = "mcpstead-rs";

/** MikkoParkkola's mcp-gateway's side (in the stdio scenario too). */
export const MCP_GATEWAY_SIDE = "mcp-gateway";

/** Median over rounds of side `a`'s calls/s ÷ side `b`'s in the same round. */
export function rpsRatio(
  t: ThroughputResult | undefined,
  a: string,
  b: string,
): number | undefined {
  const ours = t?.sides[a]?.perRound;
  const theirs = t?.sides[b]?.perRound;
  if (!ours || !theirs || ours.length === 0) return undefined;
  return round(median(ours.map((v, i) => v / theirs[i]!)), 3);
}

/** Side `a`'s CPU per call ÷ side `b`'s (the process in between: gateway or peer). */
function cpuRatio(t: ThroughputResult | undefined, a: string, b: string): number | undefined {
  const ours = t?.sides[a]?.cpuPerCallUs.proxy;
  const theirs = t?.sides[b]?.cpuPerCallUs.proxy;
  return ours === undefined || !theirs ? undefined : round(ours / theirs, 3);
}

/** Our gateway against every other side but the baseline: ratios between rows of one run. */
export function compareSides(r: LoadResults): Comparison[] {
  const l = r.latency;
  const t = r.throughput;
  const names = Object.keys(t?.sides ?? l?.sides ?? {});
  const baseline = t?.baseline ?? l?.baseline;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 3);
  const perRound = (ours: number[], theirs: number[]) =>
    ours.length === 0 ? undefined : round(median(ours.map((v, i) => v / theirs[i]!)), 3);
  return names.filter((name) => name !== OURS && name !== baseline).map((name) => ({
    against: name,
    label: t?.sides[name]?.label ?? l!.sides[name]!.label,
    rpsMany: rpsRatio(t, OURS, name),
    rpsOne: l?.sides[OURS] && l.sides[name]
      ? perRound(l.perRound.map((p) => p[OURS]!.rps), l.perRound.map((p) => p[name]!.rps))
      : undefined,
    addedP50: ratio(l?.sides[OURS]?.addedP50, l?.sides[name]?.addedP50),
    cpuPerCall: cpuRatio(t, OURS, name),
  }));
}

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
  const rust = r.comparisons.find((c) => c.against === RUST_MCPSTEAD);
  const clients = r.throughput?.clients ?? 32;
  return [
    at("added p50, 1 client: ours ÷ the Rust mcpstead's", rust?.addedP50, "×", "<=", 1),
    at("added p99, 1 client", r.latency?.sides[OURS]?.addedP99, "ms", "<=", 1),
    at(`calls/s, ${clients} clients: ours ÷ the Rust mcpstead's`, rust?.rpsMany, "×", ">=", 1),
    at(
      `gateway CPU per call, ${clients} clients`,
      r.throughput?.sides[OURS]?.cpuPerCallUs.proxy,
      "µs",
      "<=",
      100,
    ),
    at(
      `stdio calls/s, ${r.stdio?.concurrent?.clients ?? clients} clients: ours ÷ mcp-proxy's`,
      r.stdio?.concurrent?.sides[OURS]?.ratio,
      "×",
      ">=",
      10,
    ),
    at(
      `stdio calls/s, ${
        r.stdio?.concurrent?.clients ?? clients
      } clients: ours ÷ MikkoParkkola mcp-gateway's`,
      rpsRatio(r.stdio?.concurrent, OURS, MCP_GATEWAY_SIDE),
      "×",
      ">=",
      1,
    ),
    at(
      `gateway CPU per call, ${clients} clients: 2026-07-28 clients ÷ 2025 sessions`,
      cpuRatio(r.throughput, OURS_MODERN, OURS),
      "×",
      "<=",
      1,
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
