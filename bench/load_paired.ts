/**
 * Paired measurements of `bench/load.ts`: the same load against several sides (direct, bare
 * pass-through, gateway, a candidate checkout), in an order rotated every round (AB, BA, …) so
 * drift of the machine cancels out, each run started once other processes leave the CPU idle.
 *
 * @module
 */
import type { CallsCommand, Result } from "./loadgen.ts";
import type { LatencyResult, ThroughputResult, ThroughputSide } from "./load_report.ts";
import { machineSeconds } from "./proc_stats.ts";
import type { Loadgen } from "./services.ts";
import { median, round, summarize } from "./stats.ts";

/** What the paired runs need from the plan. */
export interface PairedPlan {
  rounds: number;
  seqWarmup: number;
  seqCalls: number;
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** Before each run, wait up to this long for other processes to leave the CPU idle. */
  quietMaxMs: number;
  log(text: string): void;
}

/** `tools/call` params for a tool. */
export const callParams = (tool: string) => `{"name":"${tool}","arguments":{"text":"hello"}}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One thing to measure: where, which tool, which processes to watch (`proxy`: the one in between). */
export interface Side {
  label: string;
  url: string;
  tool: string;
  watch: Record<string, number>;
  /** The revision its clients speak: 2025 sessions unless it says 2026-07-28. */
  era?: CallsCommand["era"];
}

/** One sequential client per side, `rounds` times, against the baseline side `baseline`. */
export async function latencyScenario(
  lg: Loadgen,
  plan: PairedPlan,
  sides: Record<string, Side>,
  baseline: string,
): Promise<LatencyResult> {
  const names = Object.keys(sides);
  const pooled: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const perRound: LatencyResult["perRound"] = [];
  for (let r = 0; r < plan.rounds; r++) {
    const row: LatencyResult["perRound"][number] = {};
    for (const side of rotate(names, r)) {
      await quiet(plan);
      const res = checked(
        await lg.run({
          op: "calls",
          url: sides[side]!.url,
          ...eraOf(sides[side]!),
          clients: 1,
          method: "tools/call",
          params: callParams(sides[side]!.tool),
          warmupCalls: plan.seqWarmup,
          calls: plan.seqCalls,
        }),
        `latency ${side}`,
      );
      pooled[side]!.push(...res.latenciesMs!);
      const summary = summarize(res.latenciesMs!);
      row[side] = {
        p50: round(summary.p50, 4),
        p99: round(summary.p99, 4),
        rps: round(rps(res), 1),
      };
    }
    perRound.push(row);
  }
  const paired = (side: string, f: (p: { p50: number; p99: number; rps: number }) => number) =>
    median(perRound.map((p) => f(p[side]!) - f(p[baseline]!)));
  const result: LatencyResult = {
    rounds: plan.rounds,
    callsPerRound: plan.seqCalls,
    baseline,
    sides: {},
    perRound,
  };
  for (const side of names) {
    result.sides[side] = {
      label: sides[side]!.label,
      latency: rounded(summarize(pooled[side]!)),
      rps: round(median(perRound.map((p) => p[side]!.rps)), 1),
      ...(side === baseline ? {} : {
        rpsRatio: round(median(perRound.map((p) => p[side]!.rps / p[baseline]!.rps)), 3),
        addedP50: round(paired(side, (p) => p.p50), 4),
        addedP99: round(paired(side, (p) => p.p99), 4),
      }),
    };
  }
  return result;
}

/** Concurrent runs of every side, in rotating order; ratios are per round against `baseline`. */
export async function measureThroughput(
  lg: Loadgen,
  plan: PairedPlan,
  rounds: number,
  sides: Record<string, Side>,
  baseline: string,
): Promise<ThroughputResult> {
  const names = Object.keys(sides);
  const runs: Record<string, Result[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const side of rotate(names, r)) {
      const target = sides[side]!;
      await quiet(plan);
      runs[side]!.push(checked(
        await lg.run({
          op: "calls",
          url: target.url,
          ...eraOf(target),
          clients: plan.clients,
          method: "tools/call",
          params: callParams(target.tool),
          warmupMs: plan.warmupMs,
          durationMs: plan.durationMs,
          watch: target.watch,
        }),
        `throughput ${side}`,
      ));
    }
  }
  const result: ThroughputResult = {
    rounds,
    clients: plan.clients,
    durationMs: plan.durationMs,
    baseline,
    sides: {},
  };
  for (const side of names) {
    result.sides[side] = {
      ...throughputSide(sides[side]!.label, runs[side]!),
      ...(side === baseline ? {} : {
        ratio: round(
          median(runs[side]!.map((run, i) => rps(run) / rps(runs[baseline]![i]!))),
          3,
        ),
      }),
    };
  }
  return result;
}

/** The `era` of a side's load command, when it is not the default. */
function eraOf(side: Side): Pick<CallsCommand, "era"> {
  return side.era === undefined ? {} : { era: side.era };
}

function throughputSide(label: string, runs: Result[]): ThroughputSide {
  const calls = runs.reduce((sum, r) => sum + r.completed, 0);
  const seconds = runs.reduce((sum, r) => sum + r.windowMs / 1000, 0);
  const cpu: Record<string, number> = {};
  for (const run of runs) {
    for (const [name, s] of Object.entries(run.cpuSeconds ?? {})) cpu[name] = (cpu[name] ?? 0) + s;
  }
  const cpuPerCallUs: Record<string, number> = {};
  const cores: Record<string, number> = {};
  let ours = 0;
  for (const [name, s] of Object.entries(cpu)) {
    if (name !== "machine" && name !== "steal") ours += s;
    cpuPerCallUs[name] = round((s / calls) * 1e6, 2);
    cores[name] = round(s / seconds, 3);
  }
  // What ran besides the processes measured: other work on a shared machine skews the numbers.
  cores.other = round(((cpu.machine ?? NaN) - ours) / seconds, 3);
  return {
    label,
    rps: round(median(runs.map(rps)), 1),
    perRound: runs.map((r) => round(rps(r), 1)),
    latency: rounded(summarize(runs.flatMap((r) => r.latenciesMs ?? []))),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    cpuPerCallUs,
    cores,
  };
}

/**
 * On a shared machine, waits (up to `plan.quietMaxMs`) until processes other than ours use less
 * than 0.15 cores, sampled over 250 ms; our own processes are idle between runs.
 */
export async function quiet(plan: PairedPlan): Promise<void> {
  const deadline = performance.now() + plan.quietMaxMs;
  let warned = false;
  for (let i = 0; i < 1000; i++) {
    const before = machineSeconds().busy;
    await sleep(250);
    const cores = (machineSeconds().busy - before) / 0.25;
    if (!(cores > 0.15) || performance.now() >= deadline) return;
    if (!warned) {
      plan.log(`waiting for the machine to calm down (${cores.toFixed(2)} cores busy elsewhere)`);
      warned = true;
    }
  }
}

export function checked(result: Result, what: string): Result {
  if (!result.ok) {
    throw new Error(`Cannot measure ${what}: ${result.errors} errors; first: ${result.firstError}`);
  }
  return result;
}

/** The sides in the order of round `r`: rotated by one each round (AB, BA, … for two). */
export function rotate<T>(sides: readonly T[], r: number): T[] {
  const k = r % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

function rps(result: Result): number {
  return result.completed / (result.windowMs / 1000);
}

export function rounded<T extends object>(summary: T): T {
  return Object.fromEntries(
    Object.entries(summary).map((
      [k, v],
    ) => [k, typeof v === "number" && k !== "n" ? round(v, 4) : v]),
  ) as T;
}
