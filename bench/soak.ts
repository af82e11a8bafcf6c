/**
 * The soak test (`deno task bench:soak`): minutes of mixed load through the gateway (tool calls
 * to two HTTP upstreams and a stdio one, lists, pings, sessions opened and closed or abandoned)
 * while one upstream process is killed and brought back on a schedule (the HTTP one restarted
 * by us, the stdio one by the gateway's supervisor). Reports per interval: calls, errors (those
 * explained by a restart apart from the rest), p50/p99 latency and the gateway's RSS.
 *
 * ```sh
 * deno run -A bench/soak.ts [--minutes 10] [--quick] [--interval-s 60] [--kill-every-s 60]
 *   [--workers 8] [--rate 800] [--out bench/results/soak.json]
 * ```
 *
 * Exits 1 when an error is not explained by a restart, when an upstream never recovered, when
 * the RSS grew 10 % or more over the second half of the run (middle interval → last; the first
 * intervals include V8's heap warm-up), or when a child outlived the run.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { readFlags } from "./fast_mcp.ts";
import { pidsWithMarker, statusBytes } from "./proc_stats.ts";
import { freePort, reapMarked, ROOT, stopAll } from "./procs.ts";
import {
  fastStdioCommand,
  type FastUpstream,
  startFastUpstream,
  startGateway,
} from "./services.ts";
import { fmt, fmtInt, round, summarize } from "./stats.ts";
import { classify, type Kill, type OpError, recoveredAt, SoakSession } from "./soak_client.ts";

const encoder = new TextEncoder();
const print = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const note = (text: string) => Deno.stderr.writeSync(encoder.encode(`soak: ${text}\n`));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const flags = readFlags(Deno.args);
const quick = flags.has("quick");
const num = (name: string, full: number, fast: number) =>
  Number(flags.get(name) ?? (quick ? fast : full));
const durationS = quick ? num("seconds", 60, 20) : num("minutes", 10, 10) * 60;
const intervalS = num("interval-s", 60, 5);
const killEveryS = num("kill-every-s", 60, 5);
const downS = num("down-s", 3, 1);
const warmupS = num("warmup-s", 30, 2);
const workers = num("workers", 8, 6);
const rate = num("rate", 800, 600);
const outFlag = flags.get("out") ?? join(ROOT, "bench/results/soak.json");
const out = isAbsolute(outFlag) ? outFlag : join(Deno.cwd(), outFlag);
const marker = `mcpstead-soak-${Deno.pid}-${Date.now()}`;

interface Interval {
  index: number;
  ok: number;
  expected: number;
  unexpected: number;
  latencies: number[];
  rss: number[];
  sessionsAtEnd?: number | undefined;
}

const stable = await startFastUpstream({ tools: 5, name: "upstream a" });
const victimPort = freePort();
let victim: FastUpstream = await startFastUpstream({
  tools: 5,
  port: victimPort,
  name: "upstream b",
});
const stdio = fastStdioCommand(marker, 5);
const yaml = `host: 127.0.0.1
port: 0
logging:
  level: info
  format: json
mcp:
  session:
    idle_ttl_seconds: ${quick ? 5 : 30}
    gc_interval_seconds: ${quick ? 2 : 5}
servers:
  - name: a
    url: ${stable.url}
    protocol: streamable
  - name: b
    url: ${victim.url}
    protocol: streamable
    timeout: 10
    reconnect: { max_attempts: 0, backoff_base_ms: 100, backoff_max_ms: 1000 }
    circuit_breaker: { failures: 5, window_seconds: 10, open_seconds: 1 }
  - name: c
    command: ${JSON.stringify(stdio.command)}
    args: ${JSON.stringify(stdio.args)}
    inherit_env: true
    timeout: 10
    reconnect: { max_attempts: 0, backoff_base_ms: 100, backoff_max_ms: 1000 }
    circuit_breaker: { failures: 5, window_seconds: 10, open_seconds: 1 }
`;
const gw = await startGateway(yaml);
const logErrors: string[] = [];
gw.proc.onLine = (line, stream) => {
  if (stream === "stderr" && line.includes('"level":"error"')) logErrors.push(line.slice(0, 300));
};
// Load starts once every upstream is connected and listed (errors before that are not restarts).
for (let i = 0;; i++) {
  const health = await fetch(`${gw.base}/health`).then((r) => r.json()).catch(() => undefined);
  const servers = (health?.servers ?? []) as Array<{ connected: boolean; tools_count: number }>;
  if (servers.length === 3 && servers.every((s) => s.connected && s.tools_count > 0)) break;
  if (i === 300) throw new Error("Cannot soak: the upstreams did not connect within 30 s");
  await sleep(100);
}
note(
  `${durationS} s of load at ~${rate} ops/s from ${workers} workers; a kill every ${killEveryS} s`,
);

const began = performance.now();
const elapsed = () => (performance.now() - began) / 1000;
const intervals: Interval[] = [];
const errors: OpError[] = [];
const kills: Kill[] = [];
/** Start times (s) of the successful calls to each upstream, to tell when it recovered. */
const okStarts: Record<string, number[]> = { a: [], b: [], c: [], gateway: [] };
const measuring = () => elapsed() >= warmupS;
let stop = false;
let sessionsOpened = 0;
let sessionsAbandoned = 0;

const current = (): Interval | undefined => intervals[intervals.length - 1];
const openInterval = () =>
  intervals.push({
    index: intervals.length + 1,
    ok: 0,
    expected: 0,
    unexpected: 0,
    latencies: [],
    rss: [],
  });

async function worker(id: number): Promise<void> {
  const pause = (workers / rate) * 1000;
  let n = 0;
  while (!stop) {
    let session: SoakSession;
    try {
      session = await SoakSession.open(gw.url);
      sessionsOpened++;
    } catch (error) {
      errors.push({ t: elapsed(), op: "initialize", server: "gateway", detail: String(error) });
      await sleep(100);
      continue;
    }
    const ops = 10 + ((id * 7 + n++) % 50);
    for (let i = 0; i < ops && !stop; i++) {
      const pick = Math.random();
      const tool = `tool_${Math.floor(Math.random() * 5)}`;
      const [op, server, params] = pick < 0.55
        ? ["tools/call", "a", { name: `a__${tool}`, arguments: { text: "x" } }]
        : pick < 0.70
        ? ["tools/call", "b", { name: `b__${tool}`, arguments: { text: "x" } }]
        : pick < 0.82
        ? ["tools/call", "c", { name: `c__${tool}`, arguments: { text: "x" } }]
        : pick < 0.92
        ? ["tools/list", "gateway", {}]
        : ["ping", "gateway", {}];
      const started = performance.now();
      const startedAt = elapsed();
      const outcome = await session.request(op, params);
      const ms = performance.now() - started;
      const interval = measuring() ? current() : undefined;
      if (outcome.ok) {
        okStarts[server]!.push(startedAt);
        if (interval) {
          interval.ok++;
          interval.latencies.push(ms);
        }
      } else {
        errors.push({
          t: elapsed(),
          op,
          server,
          detail: outcome.detail,
          ...(outcome.reason ? { reason: outcome.reason } : {}),
        });
      }
      const rest = pause - ms;
      if (rest > 0) await sleep(rest);
    }
    if (Math.random() < 0.1) sessionsAbandoned++;
    else await session.close();
  }
}

async function killer(): Promise<void> {
  for (let k = 1; !stop; k++) {
    const at = k * killEveryS;
    while (!stop && elapsed() < at) await sleep(100);
    if (stop || elapsed() > durationS - 2) return;
    const target = k % 2 === 1 ? "b" : "c";
    const kill: Kill = { server: target, at: elapsed() };
    kills.push(kill);
    if (target === "b") {
      Deno.kill(victim.proc.pid, "SIGKILL");
      await victim.proc.child.status;
      note(
        `t=${kill.at.toFixed(1)} s: killed upstream b (pid ${victim.proc.pid}); back in ${downS} s`,
      );
      await sleep(downS * 1000);
      for (let attempt = 1; attempt <= 20; attempt++) {
        try {
          victim = await startFastUpstream({ tools: 5, port: victimPort, name: "upstream b" });
          break;
        } catch (error) {
          if (attempt === 20) throw error;
          await sleep(250);
        }
      }
    } else {
      const pids = pidsWithMarker(marker);
      for (const pid of pids) Deno.kill(pid, "SIGKILL");
      note(
        `t=${kill.at.toFixed(1)} s: killed stdio upstream c (pid ${
          pids.join(", ")
        }); the gateway restarts it`,
      );
    }
  }
}

async function sampler(): Promise<void> {
  while (!stop) {
    await sleep(1000);
    if (!measuring()) continue;
    const t = elapsed() - warmupS;
    if (intervals.length === 0 || t >= intervals.length * intervalS) {
      const previous = current();
      if (previous) previous.sessionsAtEnd = await sessionCount();
      openInterval();
    }
    const rss = statusBytes(gw.proc.pid);
    if (rss !== undefined) current()!.rss.push(rss);
  }
}

async function sessionCount(): Promise<number | undefined> {
  try {
    const res = await fetch(`${gw.base}/health`, { signal: AbortSignal.timeout(5000) });
    return Number((await res.json()).sessions);
  } catch {
    return undefined;
  }
}

let failed = false;
try {
  const tasks = [killer(), sampler(), ...Array.from({ length: workers }, (_, i) => worker(i))];
  while (elapsed() < durationS + warmupS) await sleep(200);
  stop = true;
  await Promise.all(tasks);
  const last = current();
  if (last) last.sessionsAtEnd = await sessionCount();
} finally {
  stop = true;
  await gw.proc.stop(15_000);
  await stopAll();
}
const leftovers = reapMarked(marker);

// ---- report
for (const kill of kills) {
  const at = recoveredAt(kill, errors, okStarts[kill.server] ?? []);
  if (at !== undefined) kill.recoveredAt = at;
}
const classified = errors.map((e) => ({ ...e, expected: classify(e, kills) }));
for (const e of classified) {
  const interval = intervals.find((iv) => e.t - warmupS < iv.index * intervalS) ?? current();
  if (!interval || e.t < warmupS) continue;
  if (e.expected) interval.expected++;
  else interval.unexpected++;
}
const unexpected = classified.filter((e) => !e.expected);
const byClass = new Map<string, number>();
for (const e of classified) {
  const what = e.reason ?? e.detail.replace(/'[a-z]__tool_\d+'/, "'<tool>'").slice(0, 80);
  const key = `${e.expected ? "restart" : "UNEXPECTED"}: ${e.op} → ${e.server}: ${what}`;
  byClass.set(key, (byClass.get(key) ?? 0) + 1);
}
const meanRss = (iv: Interval) => iv.rss.reduce((a, b) => a + b, 0) / Math.max(1, iv.rss.length);
// The sampler opens an interval every intervalS; the last one may be cut short by the end.
const full = intervals.filter((iv) => iv.rss.length >= Math.max(1, intervalS / 2));
const first = full[0];
const lastFull = full[full.length - 1];
const growth = first && lastFull ? (meanRss(lastFull) - meanRss(first)) / meanRss(first) : NaN;
// V8 grows its heap for a while under a new load; a leak keeps growing after that. So the check
// is the growth over the second half of the run (middle interval → last), and first → last is
// shown beside it.
const middle = full[Math.floor((full.length - 1) / 2)];
const lateGrowth = middle && lastFull
  ? (meanRss(lastFull) - meanRss(middle)) / meanRss(middle)
  : NaN;
const notRecovered = kills.filter((k) => k.recoveredAt === undefined);

let md =
  `mcpstead soak, ${quick ? "quick" : "full"} mode: ${durationS} s after ${warmupS} s warm-up, ` +
  `${workers} workers at ~${rate} ops/s, ${kills.length} kills, ${
    fmtInt(sessionsOpened)
  } sessions ` +
  `opened (${fmtInt(sessionsAbandoned)} abandoned to the idle reaper)\n\n`;
md +=
  "| interval | calls ok | errors (restart) | errors (other) | p50 ms | p99 ms | RSS MB (mean / max) | sessions |\n";
md += "|---:|---:|---:|---:|---:|---:|---|---:|\n";
for (const iv of intervals) {
  const s = summarize(iv.latencies);
  const max = Math.max(...iv.rss);
  const label = full.includes(iv) ? String(iv.index) : `${iv.index} (partial)`;
  md += `| ${label} | ${fmtInt(iv.ok)} | ${iv.expected} | ${iv.unexpected} | ${fmt(s.p50, 2)} | ` +
    `${fmt(s.p99, 2)} | ${fmt(meanRss(iv) / 1e6, 1)} / ${fmt(max / 1e6, 1)} | ${
      iv.sessionsAtEnd ?? "–"
    } |\n`;
}
md += "\n| kill | upstream | at s | recovered after s |\n|---:|---|---:|---:|\n";
kills.forEach((k, i) => {
  md += `| ${i + 1} | ${k.server} | ${fmt(k.at, 1)} | ${
    k.recoveredAt === undefined ? "**never**" : fmt(k.recoveredAt - k.at, 2)
  } |\n`;
});
md += "\n| error class | count |\n|---|---:|\n";
for (const [key, count] of [...byClass].sort((a, b) => b[1] - a[1])) {
  md += `| ${key} | ${count} |\n`;
}
if (byClass.size === 0) md += "| (none) | 0 |\n";
const checks = [
  {
    what: "errors not explained by a restart",
    value: unexpected.length,
    ok: unexpected.length === 0,
  },
  {
    what: "kills the upstream never recovered from",
    value: notRecovered.length,
    ok: notRecovered.length === 0,
  },
  {
    what: "RSS growth, first → last interval (%; includes the heap's warm-up)",
    value: round(growth * 100, 1),
    ok: true,
  },
  {
    // 20 s is too short for V8's heap to reach its steady size; only a full run is judged.
    what: quick
      ? "RSS growth, middle → last interval (%; informational in quick mode)"
      : "RSS growth, middle → last interval (%)",
    value: round(lateGrowth * 100, 1),
    ok: quick || lateGrowth < 0.1,
  },
  { what: "stdio children left after the gateway stopped", value: leftovers, ok: leftovers === 0 },
  { what: "gateway error log lines", value: logErrors.length, ok: true },
];
md += "\n| check | value | ok |\n|---|---:|:-:|\n";
for (const c of checks) md += `| ${c.what} | ${c.value} | ${c.ok ? "yes" : "**no**"} |\n`;
failed = checks.some((c) => !c.ok);

await Deno.mkdir(dirname(out), { recursive: true });
await Deno.writeTextFile(
  out,
  JSON.stringify(
    {
      meta: {
        date: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        durationS,
        warmupS,
        intervalS,
        killEveryS,
        downS,
        workers,
        rate,
      },
      intervals: intervals.map((iv) => ({
        index: iv.index,
        ok: iv.ok,
        expectedErrors: iv.expected,
        unexpectedErrors: iv.unexpected,
        latency: summarize(iv.latencies),
        rssMB: { mean: round(meanRss(iv) / 1e6, 1), max: round(Math.max(...iv.rss) / 1e6, 1) },
        sessions: iv.sessionsAtEnd ?? null,
      })),
      kills,
      errorClasses: Object.fromEntries(byClass),
      unexpectedSamples: unexpected.slice(0, 20),
      logErrors: logErrors.slice(0, 20),
      checks,
    },
    null,
    2,
  ) + "\n",
);
print(md + `\nJSON: ${out}\n`);
Deno.exit(failed ? 1 : 0);
