/**
 * Reads a V8 `.cpuprofile` (as written by `deno run --cpu-prof`) and names where the time went:
 * the functions with the most self time, inclusive time of the gateway's own functions, and
 * self time grouped by area (gateway code, Deno's HTTP server, fetch, streams, GC, …).
 *
 * ```sh
 * deno run --allow-read bench/cpu_profile.ts <file.cpuprofile> [--top 25]
 * ```
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of the busy (non-idle) time. */
export interface FunctionCost {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

/** What a profile says. */
export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  /** Idle share of all sampled time, in percent. */
  idlePct: number;
  /** Functions by self time, most first. */
  top: FunctionCost[];
  /** Functions of the gateway's own code (`src/`, `main.ts`) by inclusive time. */
  gateway: FunctionCost[];
  /** Self time by area, in percent of busy time. */
  areas: Array<{ area: string; pct: number }>;
}

/** The area a frame belongs to, from its script URL and name. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)" || functionName === "(root)") {
    return "V8 / runtime (unattributed)";
  }
  if (/\/src\/(http|downstream)\//.test(url)) return "gateway: http + downstream";
  if (/\/src\/upstream\//.test(url)) return "gateway: upstream client";
  if (/\/src\/metrics\//.test(url)) return "gateway: metrics";
  if (/\/src\/|\/main\.ts/.test(url)) return "gateway: other";
  if (url.includes("deno_http")) return "Deno.serve (ext:deno_http)";
  if (url.includes("deno_fetch")) return "fetch (ext:deno_fetch)";
  if (url.includes("06_streams") || url.includes("deno_web")) {
    return "web streams, events, encoding (ext:deno_web)";
  }
  if (url.startsWith("ext:")) return "other Deno runtime JS";
  if (url === "" && functionName.startsWith("op_")) return `native op ${functionName}`;
  if (url === "") return `native ${functionName || "(anonymous)"}`;
  return "other JS";
}

/** Summarises a parsed profile. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (frame: CallFrame) =>
    `${frame.functionName || "(anonymous)"}\u0000${frame.url}:${frame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    // A sample's time is the delta to the next sample.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    if (node.callFrame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    busy += ms;
    const key = keyOf(node.callFrame);
    frames.set(key, node.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      frames.set(k, frame);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  }
  const cost = (key: string): FunctionCost => {
    const frame = frames.get(key)!;
    const s = self.get(key) ?? 0;
    const t = total.get(key) ?? 0;
    return {
      name: frame.functionName || "(anonymous)",
      where: frame.url === "" ? "[native]" : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`,
      area: areaOf(frame),
      selfMs: s,
      selfPct: (100 * s) / busy,
      totalMs: t,
      totalPct: (100 * t) / busy,
    };
  };
  return {
    busyMs: busy,
    idlePct: (100 * idle) / (busy + idle),
    top: [...self.keys()].sort((a, b) => self.get(b)! - self.get(a)!).slice(0, top).map(cost),
    gateway: [...total.keys()]
      .filter((k) => /\/src\/|\/main\.ts/.test(frames.get(k)!.url))
      .sort((a, b) => total.get(b)! - total.get(a)!)
      .slice(0, top)
      .map(cost),
    areas: [...areas].map(([area, ms]) => ({ area, pct: (100 * ms) / busy }))
      .sort((a, b) => b.pct - a.pct),
  };
}

/** Reads and summarises a `.cpuprofile` file. */
export async function summarizeProfileFile(path: string, top = 25): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await Deno.readTextFile(path)), top);
}

/** The summary as Markdown tables. */
export function profileMarkdown(summary: ProfileSummary): string {
  const pct = (v: number) => `${v.toFixed(1)} %`;
  let out = `Busy ${summary.busyMs.toFixed(0)} ms sampled (idle ${
    pct(summary.idlePct)
  } of the run).\n\n`;
  out += "| area | self time |\n|---|---:|\n";
  for (const { area, pct: p } of summary.areas.filter((a) => a.pct >= 0.5)) {
    out += `| ${area} | ${pct(p)} |\n`;
  }
  out += "\n| function | where | self | total |\n|---|---|---:|---:|\n";
  for (const f of summary.top) {
    out += `| \`${f.name}\` | ${f.where} | ${pct(f.selfPct)} | ${pct(f.totalPct)} |\n`;
  }
  out +=
    "\nGateway functions by inclusive time:\n\n| function | where | self | total |\n|---|---|---:|---:|\n";
  for (const f of summary.gateway) {
    out += `| \`${f.name}\` | ${f.where} | ${pct(f.selfPct)} | ${pct(f.totalPct)} |\n`;
  }
  return out;
}

function shortUrl(url: string): string {
  const src = url.lastIndexOf("/src/");
  if (src !== -1) return url.slice(src + 1);
  if (url.endsWith("/main.ts")) return "main.ts";
  return url.replace(/^file:\/\/.*\/bench\//, "bench/");
}

if (import.meta.main) {
  const path = Deno.args.find((a) => !a.startsWith("--"));
  if (!path) {
    Deno.stderr.writeSync(
      new TextEncoder().encode("usage: cpu_profile.ts <file.cpuprofile> [--top N]\n"),
    );
    Deno.exit(2);
  }
  const topIndex = Deno.args.indexOf("--top");
  const top = topIndex === -1 ? 25 : Number(Deno.args[topIndex + 1]);
  Deno.stdout.writeSync(
    new TextEncoder().encode(profileMarkdown(await summarizeProfileFile(path, top))),
  );
}
