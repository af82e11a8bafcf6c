/**
 * Process figures from Linux `/proc`: CPU time (utime + stime of every thread) and resident
 * memory, read by pid, so a benchmark can measure processes it does not run in.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every mainstream Linux build). */
export const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) a process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds the whole machine has been busy on all cores (`/proc/stat`: user, nice, system,
 * irq, softirq) and the seconds a hypervisor stole from it.
 */
export function machineSeconds(): { busy: number; steal: number } {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
    // Fields: user nice system idle iowait irq softirq steal.
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return {
      busy: (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / CLOCK_TICKS,
      steal: f[7]! / CLOCK_TICKS,
    };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/**
 * CPU seconds of several named processes at once, plus `machine` (the whole machine's busy
 * time) and `steal` (time a hypervisor took), to tell what else ran meanwhile.
 */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = cpuSeconds(pid) ?? NaN;
  const machine = machineSeconds();
  out.machine = machine.busy;
  out.steal = machine.steal;
  return out;
}

/** CPU seconds used between two snapshots, per name. */
export function cpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(before)) out[name] = (after[name] ?? NaN) - before[name]!;
  return out;
}

/** A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`, …); undefined once the process is gone. */
export function statusBytes(pid: number, field = "VmRSS"): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Pids of live processes whose command line contains `marker` (to find a run's own grandchildren). */
export function pidsWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && cmdline.includes(marker)) pids.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** The machine, for result headers: CPU model and count. */
export function machineInfo(): { cpu: string; cores: number; memGiB: number } {
  let cpu = "unknown";
  let cores = navigator.hardwareConcurrency;
  let memGiB = NaN;
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpu;
    cores = info.match(/^processor\s*:/gm)?.length ?? cores;
    const mem = /^MemTotal:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    if (mem) memGiB = Math.round(Number(mem[1]) / 1024 / 1024 * 10) / 10;
  } catch {
    // Not Linux: keep the defaults.
  }
  return { cpu, cores, memGiB };
}
