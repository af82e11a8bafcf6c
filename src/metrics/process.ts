// Process and build metrics, collected at scrape time. Linux exposes them in procfs (proc(5)).
//
// Permissions: Deno 2.9.5 treats /proc as a special path and refuses to read it without
// `--allow-all` ("Requires all access to /proc/self/stat"), even with `--allow-read=/proc`.
// Without it, every procfs read fails and its metric is omitted; RSS and CPU time then come
// from Deno.memoryUsage() and getrusage (node:process cpuUsage()), which need no permission.

import process from "node:process";
import denoConfig from "../../deno.json" with { type: "json" };
import type { Registry } from "./registry.ts";

/** I/O seams of `registerProcessMetrics`; the defaults read the real process. */
export interface ProcessMetricsOptions {
  /** Reads a whole file; throws when it cannot. Default: `Deno.readFileSync` if permitted. */
  readonly readFile?: (path: string) => Uint8Array;
  /** Lists a directory's entry names; throws when it cannot. Default: `Deno.readDirSync`. */
  readonly readDir?: (path: string) => Iterable<string>;
  /** Wall clock in milliseconds since the epoch. Default: `Date.now`. */
  readonly now?: () => number;
  /** `version` label of `mcpstead_build_info`. Default: the version in deno.json. */
  readonly version?: string;
  /** `git_sha` label of `mcpstead_build_info`. Default: `unknown`. */
  readonly gitSha?: string;
}

const decoder = new TextDecoder();
const AT_NULL = 0n;
const AT_CLKTCK = 17n;

/**
 * Registers `mcpstead_build_info`, `mcpstead_start_time_seconds`, `mcpstead_uptime_seconds` and
 * the six `mcpstead_process_*` families. Call it once at startup: the start time is `now()` then.
 * A value that cannot be read is omitted from the scrape, never invented.
 */
export function registerProcessMetrics(
  registry: Registry,
  options: ProcessMetricsOptions = {},
): void {
  const readFile = options.readFile ?? readFileIfPermitted;
  const readDir = options.readDir ?? readDirIfPermitted;
  const now = options.now ?? Date.now;
  const startMs = now();

  const readText = (path: string): string | undefined => {
    try {
      return decoder.decode(readFile(path));
    } catch {
      return undefined;
    }
  };
  const stat = () => parseStat(readText("/proc/self/stat"));
  const status = () => parseStatus(readText("/proc/self/status"));
  let clockTick: number | undefined;

  registry.gauge({
    name: "mcpstead_build_info",
    help: "Build information; the value is always 1.",
    labelNames: ["version", "deno_version", "v8_version", "git_sha"],
  }).set({
    version: options.version ?? denoConfig.version,
    deno_version: Deno.version.deno,
    v8_version: Deno.version.v8,
    git_sha: options.gitSha ?? "unknown",
  }, 1);
  registry.gauge({
    name: "mcpstead_start_time_seconds",
    help: "Start time of the gateway since the Unix epoch in seconds.",
  }).set(startMs / 1000);
  registry.gauge({
    name: "mcpstead_uptime_seconds",
    help: "Seconds since the gateway started.",
    // A wall clock stepped backwards must not report a negative uptime.
    collect: () => [{ value: Math.max(0, (now() - startMs) / 1000) }],
  });
  registry.gauge({
    name: "mcpstead_process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    collect: () => {
      const kib = kibibytes(status()?.get("VmRSS"));
      return [{ value: kib === undefined ? Deno.memoryUsage().rss : kib * 1024 }];
    },
  });
  registry.gauge({
    name: "mcpstead_process_virtual_memory_bytes",
    help: "Virtual memory size in bytes.",
    collect: () => sample(stat()?.vsizeBytes),
  });
  registry.counter({
    name: "mcpstead_process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    collect: () => {
      const ticks = stat();
      if (ticks === undefined) {
        // getrusage(RUSAGE_SELF), in microseconds: the same accounting procfs reports.
        const { user, system } = process.cpuUsage();
        return [{ value: (user + system) / 1e6 }];
      }
      clockTick ??= parseClockTick(readFile) ?? USER_HZ_ASSUMED;
      return [{ value: (ticks.utimeTicks + ticks.stimeTicks) / clockTick }];
    },
  });
  registry.gauge({
    name: "mcpstead_process_open_fds",
    help: "Number of open file descriptors.",
    collect: () => {
      try {
        // Like the Go client's, the count includes the descriptor used to list the directory.
        let count = 0;
        for (const _ of readDir("/proc/self/fd")) count++;
        return [{ value: count }];
      } catch {
        return [];
      }
    },
  });
  registry.gauge({
    name: "mcpstead_process_max_fds",
    help: "Soft limit on open file descriptors (+Inf when unlimited).",
    collect: () => sample(parseMaxFds(readText("/proc/self/limits"))),
  });
  registry.gauge({
    name: "mcpstead_process_threads",
    help: "Number of OS threads in the process.",
    collect: () => sample(integer(status()?.get("Threads"))),
  });
}

// Fields of /proc/self/stat read here, counted from 1 as in proc(5).
const STAT_UTIME = 14;
const STAT_STIME = 15;
const STAT_VSIZE = 23;

// USER_HZ, the unit of the tick counts in /proc/self/stat, is what sysconf(_SC_CLK_TCK) returns;
// glibc takes it from the AT_CLKTCK entry of the aux vector, which we read from /proc/self/auxv.
// Only if that cannot be read do we assume 100: the kernel fixes USER_HZ at 100 on x86_64 and
// aarch64, the only Linux targets Deno ships for.
const USER_HZ_ASSUMED = 100;

/** Fields of `/proc/self/stat` used here; `undefined` if the text is missing or malformed. */
function parseStat(
  text: string | undefined,
): { utimeTicks: number; stimeTicks: number; vsizeBytes: number } | undefined {
  if (text === undefined) return undefined;
  // Field 2 is the command name in parentheses and may itself contain spaces and ")".
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // After ") " comes field 3, so field N is at index N - 3.
  const fields = text.slice(close + 2).trim().split(" ");
  const utimeTicks = integer(fields[STAT_UTIME - 3]);
  const stimeTicks = integer(fields[STAT_STIME - 3]);
  const vsizeBytes = integer(fields[STAT_VSIZE - 3]);
  if (utimeTicks === undefined || stimeTicks === undefined || vsizeBytes === undefined) {
    return undefined;
  }
  return { utimeTicks, stimeTicks, vsizeBytes };
}

/** `Key:\tvalue` lines of `/proc/self/status` as a map; `undefined` if the text is missing. */
function parseStatus(text: string | undefined): Map<string, string> | undefined {
  if (text === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Soft `Max open files` limit from `/proc/self/limits`; `Infinity` when `unlimited`. */
function parseMaxFds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  return soft === "unlimited" ? Infinity : integer(soft);
}

/** `AT_CLKTCK` from `/proc/self/auxv`: pairs of 64-bit little-endian words on Deno's targets. */
function parseClockTick(readFile: (path: string) => Uint8Array): number | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFile("/proc/self/auxv");
  } catch {
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 16 <= bytes.byteLength; at += 16) {
    const type = view.getBigUint64(at, true);
    if (type === AT_NULL) break;
    if (type === AT_CLKTCK) {
      const hz = Number(view.getBigUint64(at + 8, true));
      return hz > 0 ? hz : undefined;
    }
  }
  return undefined;
}

function kibibytes(value: string | undefined): number | undefined {
  // e.g. "12345 kB"; the kernel means KiB.
  const match = value === undefined ? null : /^(\d+) kB$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

function integer(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function sample(value: number | undefined): { value: number }[] {
  return value === undefined ? [] : [{ value }];
}

function readFileIfPermitted(path: string): Uint8Array {
  // Asking first keeps a scrape from ever stopping at an interactive permission prompt.
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    throw new Error(`Cannot read "${path}": read permission not granted`);
  }
  return Deno.readFileSync(path);
}

function readDirIfPermitted(path: string): Iterable<string> {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    throw new Error(`Cannot list "${path}": read permission not granted`);
  }
  return Array.from(Deno.readDirSync(path), (entry) => entry.name);
}
