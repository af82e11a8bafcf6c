/**
 * The load benchmark (`deno task bench:load`): the gateway as a separate process in front of a
 * minimal upstream, driven by a load generator in a third process, measured against the same
 * upstream called directly (and, for stdio, against `mcp-proxy`) in alternating rounds.
 * Prints a Markdown table and writes the numbers as JSON (DESIGN §7 targets).
 *
 * Usage: `deno task bench:load --help`.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { machineInfo } from "./proc_stats.ts";
import { ROOT, stopAll } from "./procs.ts";
import { compareSides, evaluateTargets, type LoadResults } from "./load_report.ts";
import { renderMarkdown } from "./load_markdown.ts";
import { type Plan, runScenarios } from "./load_scenarios.ts";
import { readFlags } from "./fast_mcp.ts";
import { findMcpProxy, readPeerChoice } from "./peers.ts";
import { clusterMarkdown, clusterScenario } from "./load_cluster.ts";
import { startLoadgen } from "./services.ts";
import { defaultPeerCache, findRustPeers } from "./rust_peers.ts";

const encoder = new TextEncoder();
const print = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const note = (text: string) => Deno.stderr.writeSync(encoder.encode(`bench: ${text}\n`));

const USAGE = `deno run -A bench/load.ts [--quick] [--out bench/results/latest.json] [--rounds N]
  [--only latency,throughput,list,cold,memory,stdio,profile] [--no-profile]
  [--mcp-proxy <path to mcp-proxy.mjs>]
  [--install-peers]       # install missing peers: mcp-proxy (npm) and the Rust mcpstead 0.1.13
                          # (cargo, about 5 minutes the first time)
  [--install-peers=all]   # also MikkoParkkola's mcp-gateway 3.5.1 (cargo, about 13 minutes)
  [--no-peers]            # measure no peer (without either flag, installed peers are used)
  [--candidate <another checkout>]   # also measure that checkout's gateway (A/B of a change)
  [--label <text>]   # names the code measured when it is not a git checkout (default: git describe)
deno run -A bench/load.ts --render bench/results/latest.json   # print the table of a run again
deno run -A bench/load.ts --cluster 3 [--quick]   # N replicas sharing a redis-server vs one process
`;

/** Every flag the benchmark reads: the ones in {@link USAGE} and the plan's fine tuning below. */
const KNOWN_FLAGS = new Set(
  `help render quick out rounds only no-profile profile mcp-proxy install-peers no-peers candidate label cluster seq-warmup seq-calls clients warmup-ms duration-ms list-calls cold-runs sessions settle-ms stdio-rounds profile-ms quiet-max-ms mem-settle-max-ms`
    .split(" "),
);

const flags = readFlags(Deno.args);
if (flags.has("help")) {
  print(USAGE);
  Deno.exit(0);
}
const unknown = [...flags.keys()].filter((name) => !KNOWN_FLAGS.has(name));
if (unknown.length > 0) {
  note(`unknown flag ${unknown.map((name) => `--${name}`).join(", ")}\n${USAGE}`);
  Deno.exit(2);
}
const rendered = flags.get("render");
if (rendered !== undefined) {
  // Re-print the table of an earlier run.
  print(renderMarkdown(JSON.parse(await Deno.readTextFile(rendered))));
  Deno.exit(0);
}
const quick = flags.has("quick");
let peerChoice;
try {
  peerChoice = readPeerChoice(flags);
} catch (error) {
  note((error as Error).message);
  Deno.exit(2);
}
const only = flags.get("only")?.split(",");
const num = (name: string, full: number, fast: number) =>
  Number(flags.get(name) ?? (quick ? fast : full));

const plan: Plan = {
  quick,
  rounds: num("rounds", 6, 2),
  seqWarmup: num("seq-warmup", 500, 100),
  seqCalls: num("seq-calls", 3000, 300),
  clients: num("clients", 32, 32),
  warmupMs: num("warmup-ms", 1000, 200),
  durationMs: num("duration-ms", 4000, 600),
  listCalls: num("list-calls", 400, 40),
  coldRuns: num("cold-runs", 5, 1),
  sessions: num("sessions", 10_000, 10_000),
  settleMs: num("settle-ms", 1500, 300),
  stdioRounds: num("stdio-rounds", 4, 1),
  profileMs: num("profile-ms", 6000, 1500),
  quietMaxMs: num("quiet-max-ms", 20_000, 0),
  memSettleMaxMs: num("mem-settle-max-ms", 60_000, 0),
  wants: (name) => {
    if (only) return only.includes(name);
    if (name === "profile") return !flags.has("no-profile") && (!quick || flags.has("profile"));
    return true;
  },
  mcpProxy: peerChoice.skip ? undefined : await findMcpProxy({
    explicit: flags.get("mcp-proxy"),
    install: peerChoice.install !== "none",
    log: note,
  }),
  peers: await findRustPeers({
    choice: peerChoice,
    cache: defaultPeerCache(),
    cargo: "cargo",
    log: note,
  }),
  candidate: flags.get("candidate"),
  resultsDir: join(ROOT, "bench/results"),
  log: note,
};

const outFlag = flags.get("out") ??
  join(ROOT, flags.has("cluster") ? "bench/results/cluster.json" : "bench/results/latest.json");
const out = isAbsolute(outFlag) ? outFlag : join(Deno.cwd(), outFlag);
const stop = () => void stopAll().finally(() => Deno.exit(130));
Deno.addSignalListener("SIGINT", stop);
if (flags.has("cluster")) {
  await runCluster(Number(flags.get("cluster")) || 3);
  Deno.exit(0);
}

const began = performance.now();
const startMeta = await meta();
let results: LoadResults;
try {
  const measured = await runScenarios(plan);
  results = { meta: startMeta, ...measured, comparisons: [], targets: [] };
  results.comparisons = compareSides(results);
  results.targets = evaluateTargets(results);
} finally {
  await stopAll();
  Deno.removeSignalListener("SIGINT", stop);
}
results.meta.seconds = Math.round((performance.now() - began) / 100) / 10;

await Deno.mkdir(dirname(out), { recursive: true });
await Deno.writeTextFile(out, JSON.stringify(results, null, 2) + "\n");
const m = results.meta;
print(
  `mcpstead load benchmark, ${
    quick ? "quick" : "full"
  } mode, ${m.seconds} s — ${m.cpu} ×${m.cores}, ` +
    `deno ${m.deno}, commit ${m.commit}, load average at start ${m.loadavg}\n\n`,
);
print(renderMarkdown(results));
if (results.profile) {
  print(
    `\nCPU profile of the gateway under ${plan.clients}-session load (${results.profile.file}):\n\n${results.profile.markdown}`,
  );
}
print(`\nJSON: ${out}\n`);

/** `--cluster N`: the cluster comparison alone (bench/load_cluster.ts). */
async function runCluster(replicas: number): Promise<void> {
  const began = performance.now();
  const lg = await startLoadgen();
  try {
    const results = await clusterScenario(lg, plan, replicas);
    const m: Record<string, unknown> = {
      ...(await meta()),
      seconds: Math.round((performance.now() - began) / 1000),
    };
    await Deno.mkdir(dirname(out), { recursive: true });
    await Deno.writeTextFile(out, JSON.stringify({ meta: m, ...results }, null, 2) + "\n");
    print(
      `mcpstead cluster benchmark, ${replicas} replicas, ${m.seconds} s — ${m.cpu} ×${m.cores}, ` +
        `commit ${m.commit}, load average at start ${m.loadavg}\n\n`,
    );
    print(clusterMarkdown(results));
    print(`\nJSON: ${out}\n`);
  } finally {
    await lg.run({ op: "exit" }).catch(() => {});
    await stopAll();
  }
}

async function meta(): Promise<Record<string, unknown>> {
  const machine = machineInfo();
  let commit = "unknown";
  try {
    const git = await new Deno.Command("git", {
      args: ["describe", "--always", "--dirty"],
      cwd: ROOT,
    }).output();
    if (git.success) commit = new TextDecoder().decode(git.stdout).trim();
  } catch {
    // No git: leave it unknown.
  }
  let loadavg = "unknown";
  try {
    loadavg = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    // Not Linux.
  }
  return {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    commit: flags.get("label") ?? commit,
    ...(plan.candidate === undefined ? {} : { candidate: plan.candidate }),
    ...machine,
    loadavg,
    plan: { ...plan, wants: undefined, log: undefined, resultsDir: undefined, peers: undefined },
  };
}
