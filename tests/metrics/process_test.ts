import assert from "node:assert/strict";
import { registerProcessMetrics, Registry, render } from "../../src/metrics/mod.ts";

const encoder = new TextEncoder();

// Field 2 (the command) holds spaces and ")" on purpose; utime=250, stime=50 ticks,
// 7 threads (field 20), vsize=18589921280 bytes (field 23).
const STAT = "4683 (my (odd) gw) S 4674 4674 2883 0 -1 4194304 2725 0 0 0 250 50 0 0 20 0 7 0 " +
  "22427 18589921280 8110 18446744073709551615 94572233576448 94572297607488\n";
const STATUS = "Name:\tdeno\nState:\tS (sleeping)\nVmSize:\t18153244 kB\nVmRSS:\t   32440 kB\n" +
  "Threads:\t7\n";
const LIMITS = "Limit                     Soft Limit           Hard Limit           Units     \n" +
  "Max cpu time              unlimited            unlimited            seconds   \n" +
  "Max open files            20000                1048576              files     \n";

/** An aux vector of 64-bit little-endian (type, value) pairs ending in AT_NULL. */
function auxv(pairs: [number, number][]): Uint8Array {
  const view = new DataView(new ArrayBuffer((pairs.length + 1) * 16));
  pairs.forEach(([type, value], i) => {
    view.setBigUint64(i * 16, BigInt(type), true);
    view.setBigUint64(i * 16 + 8, BigInt(value), true);
  });
  return new Uint8Array(view.buffer);
}

function fakeProc(files: Record<string, string | Uint8Array>, fds?: string[]) {
  return {
    readFile(path: string): Uint8Array {
      const content = files[path];
      if (content === undefined) throw new Deno.errors.NotFound(path);
      return typeof content === "string" ? encoder.encode(content) : content;
    },
    readDir(path: string): Iterable<string> {
      if (path !== "/proc/self/fd" || fds === undefined) throw new Deno.errors.NotFound(path);
      return fds;
    },
  };
}

function sampleLines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

Deno.test("registerProcessMetrics() reads every process metric from procfs", () => {
  const registry = new Registry();
  let clock = 1_700_000_000_250;
  registerProcessMetrics(registry, {
    ...fakeProc({
      "/proc/self/stat": STAT,
      "/proc/self/status": STATUS,
      "/proc/self/limits": LIMITS,
      "/proc/self/auxv": auxv([[6, 4096], [17, 250]]),
    }, ["0", "1", "2", "3", "4"]),
    now: () => clock,
    version: "1.2.3",
    gitSha: "abc123",
  });
  clock += 90_500;
  assert.deepEqual(sampleLines(render(registry)), [
    `mcpstead_build_info{version="1.2.3",deno_version="${Deno.version.deno}",v8_version="${Deno.version.v8}",git_sha="abc123"} 1`,
    "mcpstead_start_time_seconds 1700000000.25",
    "mcpstead_uptime_seconds 90.5",
    "mcpstead_process_resident_memory_bytes 33218560",
    "mcpstead_process_virtual_memory_bytes 18589921280",
    // (250 + 50) ticks at AT_CLKTCK = 250 Hz
    "mcpstead_process_cpu_seconds_total 1.2",
    "mcpstead_process_open_fds 5",
    "mcpstead_process_max_fds 20000",
    "mcpstead_process_threads 7",
  ]);
});

Deno.test("registerProcessMetrics() assumes 100 ticks per second when auxv is unreadable", () => {
  const registry = new Registry();
  registerProcessMetrics(registry, fakeProc({ "/proc/self/stat": STAT }));
  assert.match(render(registry), /^mcpstead_process_cpu_seconds_total 3$/m);
});

Deno.test("registerProcessMetrics() reports an unlimited fd limit as +Inf", () => {
  const registry = new Registry();
  registerProcessMetrics(
    registry,
    fakeProc({
      "/proc/self/limits":
        "Max open files            unlimited            unlimited            files\n",
    }),
  );
  assert.match(render(registry), /^mcpstead_process_max_fds \+Inf$/m);
});

Deno.test("registerProcessMetrics() omits what procfs cannot give and falls back for RSS and CPU", () => {
  const registry = new Registry();
  registerProcessMetrics(registry, { ...fakeProc({}), now: () => 5_000 });
  const text = render(registry);
  const samples = sampleLines(text);
  assert.deepEqual(samples.map((line) => line.replace(/[{ ].*/, "")), [
    "mcpstead_build_info",
    "mcpstead_start_time_seconds",
    "mcpstead_uptime_seconds",
    "mcpstead_process_resident_memory_bytes",
    "mcpstead_process_cpu_seconds_total",
  ]);
  assert.match(text, /^mcpstead_process_resident_memory_bytes [1-9]\d*$/m);
  assert.match(text, /^mcpstead_process_cpu_seconds_total \d+(\.\d+)?(e-\d+)?$/m);
  assert.match(text, /git_sha="unknown"/);
  // Families stay declared even without samples.
  for (const name of ["virtual_memory_bytes", "open_fds", "max_fds", "threads"]) {
    assert.match(text, new RegExp(`^# TYPE mcpstead_process_${name} gauge$`, "m"));
  }
});

Deno.test("registerProcessMetrics() omits values from malformed procfs files", () => {
  const registry = new Registry();
  registerProcessMetrics(
    registry,
    fakeProc({
      "/proc/self/stat": "garbage without parenthesis",
      "/proc/self/status": "VmRSS:\tlots\nThreads:\t-1\n",
      "/proc/self/limits": "Max open files   many   many   files\n",
    }),
  );
  const names = sampleLines(render(registry)).map((line) => line.replace(/[{ ].*/, ""));
  assert.ok(!names.includes("mcpstead_process_virtual_memory_bytes"));
  assert.ok(!names.includes("mcpstead_process_threads"));
  assert.ok(!names.includes("mcpstead_process_max_fds"));
});

Deno.test("registerProcessMetrics() never reports a negative uptime", () => {
  const registry = new Registry();
  let clock = 10_000;
  registerProcessMetrics(registry, { ...fakeProc({}), now: () => clock });
  clock -= 3_000; // wall clock stepped back
  assert.match(render(registry), /^mcpstead_uptime_seconds 0$/m);
});

Deno.test("registerProcessMetrics() with real defaults renders without throwing", () => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const text = render(registry);
  assert.match(text, /^mcpstead_process_resident_memory_bytes [1-9]\d*$/m);
  assert.match(text, /^mcpstead_uptime_seconds /m);
});
