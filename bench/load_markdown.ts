/**
 * The Markdown tables printed at the end of `bench/load.ts` (and by `--render`): every side of
 * the direct-call runs, our gateway's ratios to the others, the other measurements and the
 * DESIGN §7 targets.
 *
 * @module
 */
import { type LoadResults, OURS, type ThroughputSide } from "./load_report.ts";
import { fmt, fmtInt, median } from "./stats.ts";

/**
 * The results as Markdown: the sides of the direct-call runs (added latency against direct,
 * calls/s with 1 and many clients, CPU per call), our gateway's ratios to each other side, the
 * other measurements, and the DESIGN §7 targets.
 */
export function renderMarkdown(r: LoadResults): string {
  return [sidesTable(r), comparisonTable(r), measuresTable(r), targetsTable(r)]
    .filter((table) => table !== "").join("\n");
}

/** A ratio: two decimals, three below 0.1 (0.075×, not 0.08×). */
const times = (value: number | undefined) =>
  value === undefined ? "–" : `${fmt(value, Math.abs(value) < 0.1 ? 3 : 2)}×`;

function sidesTable(r: LoadResults): string {
  const l = r.latency;
  const t = r.throughput;
  if (!l && !t) return "";
  const baseline = l?.baseline ?? t!.baseline;
  const clients = t?.clients ?? 32;
  let out =
    `| target | added p50 / p99, 1 client (ms) | calls/s, 1 client | calls/s, ${clients} clients | ` +
    `p50 / p99, ${clients} clients (ms) | CPU per call, ${clients} clients (µs) | ` +
    "load generator / other processes (cores) |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const name of Object.keys(l?.sides ?? t!.sides)) {
    const ls = l?.sides[name];
    const ts = t?.sides[name];
    const added = name === baseline
      ? ls ? `— (itself ${fmt(ls.latency.p50)} / ${fmt(ls.latency.p99)})` : "—"
      : ls
      ? `+${fmt(ls.addedP50)} / +${fmt(ls.addedP99)}`
      : "–";
    const rate = (rps: number | undefined, ratio: number | undefined) =>
      name === baseline || rps === undefined ? fmtInt(rps) : `${fmtInt(rps)} (${times(ratio)})`;
    out += `| ${ls?.label ?? ts!.label} | ${added} | ${rate(ls?.rps, ls?.rpsRatio)} | ` +
      `${rate(ts?.rps, ts?.ratio)} | ` +
      `${ts ? `${fmt(ts.latency.p50, 2)} / ${fmt(ts.latency.p99, 2)}` : "–"} | ` +
      `${name === baseline ? "—" : fmt(ts?.cpuPerCallUs.proxy, 1)} | ` +
      `${ts ? `${fmt(ts.cores.loadgen, 2)} / ${fmt(ts.cores.other, 2)}` : "–"} |\n`;
  }
  for (const peer of r.peers ?? []) {
    if (peer.skipped !== undefined) out += `| ${peer.label} | ${peer.skipped} | | | | | |\n`;
  }
  return out;
}

function comparisonTable(r: LoadResults): string {
  if (r.comparisons.length === 0) return "";
  const ours = r.latency?.sides[OURS]?.label ?? r.throughput?.sides[OURS]?.label ?? OURS;
  const clients = r.throughput?.clients ?? 32;
  let out = `| ${ours} ÷ | calls/s, ${clients} clients | calls/s, 1 client | ` +
    "added p50, 1 client | CPU per call |\n|---|---:|---:|---:|---:|\n";
  for (const c of r.comparisons) {
    out += `| ${c.label} | ${times(c.rpsMany)} | ${times(c.rpsOne)} | ${times(c.addedP50)} | ` +
      `${times(c.cpuPerCall)} |\n`;
  }
  return out;
}

function measuresTable(r: LoadResults): string {
  const rows: string[][] = [];
  const row = (label: string, baseline: string, gateway: string, difference: string) =>
    rows.push([label, baseline, gateway, difference]);
  const pair = (side: ThroughputSide) =>
    `${fmt(side.latency.p50, 2)} / ${fmt(side.latency.p99, 2)}`;
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
  const x = s?.concurrent;
  const base = x?.sides[x.baseline];
  for (const name of Object.keys(x?.sides ?? {})) {
    const side = x!.sides[name]!;
    if (name === x!.baseline || !base) continue;
    const who = name === OURS ? "mcpstead" : side.label;
    const seq = s!.sequential;
    if (seq?.[name] && seq.peer) {
      row(
        `stdio, 1 sequential client: p50 (ms), ${who} — baseline = ${s!.peer}`,
        fmt(seq.peer.p50),
        fmt(seq[name].p50),
        `${fmt(seq.peer.p50 / seq[name].p50, 1)}× faster`,
      );
    }
    row(
      `stdio, ${x!.clients} sessions: calls/s, ${who} — baseline = ${s!.peer}`,
      fmtInt(base.rps),
      fmtInt(side.rps),
      `${fmt(side.ratio, 1)}×`,
    );
    row(`stdio, ${x!.clients} sessions: p50 / p99 (ms), ${who}`, pair(base), pair(side), "");
    row(
      `stdio, ${x!.clients} sessions: proxy / child CPU per call (µs), ${who}`,
      `${fmt(base.cpuPerCallUs.proxy, 1)} / ${fmt(base.cpuPerCallUs.child, 1)}`,
      `${fmt(side.cpuPerCallUs.proxy, 1)} / ${fmt(side.cpuPerCallUs.child, 1)}`,
      `other processes ${fmt(base.cores.other, 2)} / ${fmt(side.cores.other, 2)} cores`,
    );
  }
  for (const peer of s?.peers ?? []) {
    if (peer.skipped !== undefined) row(`stdio: ${peer.label}`, "skipped", "", peer.skipped);
  }
  if (rows.length === 0) return "";
  let out = "| measure | baseline (peer) | mcpstead | difference |\n|---|---:|---:|---|\n";
  for (const cells of rows) out += `| ${cells.join(" | ")} |\n`;
  return out;
}

function targetsTable(r: LoadResults): string {
  let out = "| DESIGN §7 target | measured | target | met |\n|---|---:|---:|:-:|\n";
  for (const target of r.targets) {
    const value = target.value === undefined
      ? "–"
      : `${fmt(target.value, target.unit === "×" ? 2 : 3)} ${target.unit}`;
    const met = target.met === undefined ? "not measured" : target.met ? "yes" : "**no**";
    out += `| ${target.what} | ${value} | ${target.limit} ${target.unit} | ${met} |\n`;
  }
  return out;
}
