/**
 * Child processes of a benchmark run: the fast upstreams, the gateway, the load generator and
 * peers. Each is started with piped output read line by line (so a chatty child never blocks),
 * waited on until it says it is ready, and stopped by its own pid (SIGTERM, then SIGKILL).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { pidsWithMarker } from "./proc_stats.ts";

/** The repository root (the parent of bench/). */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The `deno` binary running this benchmark; every Deno child uses the same. */
export const DENO = Deno.execPath();

/** A started child. */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  /** The last lines of stdout and stderr, for error messages. */
  readonly tail: string[];
  /** Set once the process exited. */
  exited: Deno.CommandStatus | undefined;
  /** Called for every output line after start-up too. */
  onLine: ((line: string, stream: "stdout" | "stderr") => void) | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once reaped. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@linkcode start}. */
export interface StartOptions<T> {
  name: string;
  cmd: string;
  args: string[];
  /** Returns a value once a line shows the process is ready. */
  ready?(line: string, stream: "stdout" | "stderr"): T | undefined;
  /** Or: resolves once the process is ready (for children that print nothing useful). */
  probe?(): Promise<T>;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Start with only `env`, none of this process's environment (for children that read their own variables). */
  clearEnv?: boolean;
  /** Pipe stdin (the caller writes to `child.stdin`). */
  stdin?: boolean;
  /** Start in a new process group, so stopping also ends what the child started. */
  group?: boolean;
  /** The working directory; the repository root by default. */
  cwd?: string;
}

const live = new Set<Proc>();

/** Starts a process and waits until `ready` matches a line; `ms` is the time from spawn to that line. */
export async function start<T>(
  options: StartOptions<T>,
): Promise<{ proc: Proc; value: T; ms: number }> {
  const began = performance.now();
  const child = new Deno.Command(options.cmd, {
    args: options.args,
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
    ...(options.clearEnv ? { clearEnv: true } : {}),
    ...(options.group ? { detached: true } : {}),
  }).spawn();
  const ready = Promise.withResolvers<{ value: T; ms: number }>();
  const proc: Proc = {
    name: options.name,
    pid: child.pid,
    child,
    tail: [],
    exited: undefined,
    onLine: undefined,
    stop: (graceMs = 5000) => stopProc(proc, options.group === true, graceMs),
  };
  live.add(proc);
  let matched = false;
  const feed = (line: string, stream: "stdout" | "stderr") => {
    proc.tail.push(`${stream}: ${line}`);
    if (proc.tail.length > 40) proc.tail.shift();
    if (!matched && options.ready) {
      const value = options.ready(line, stream);
      if (value !== undefined) {
        matched = true;
        ready.resolve({ value, ms: performance.now() - began });
      }
    }
    proc.onLine?.(line, stream);
  };
  const read = Promise.all([
    readLines(child.stdout, (line) => feed(line, "stdout")),
    readLines(child.stderr, (line) => feed(line, "stderr")),
  ]);
  child.status.then(async (status) => {
    proc.exited = status;
    live.delete(proc);
    // Its last words (why it exited) may still be in the pipes, unless a grandchild holds them.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    ready.reject(
      new Error(
        `${options.name} exited (code ${status.code}) before it was ready:\n${
          proc.tail.join("\n")
        }`,
      ),
    );
  });
  options.probe?.().then(
    (value) => ready.resolve({ value, ms: performance.now() - began }),
    (error) => ready.reject(error),
  );
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timer = setTimeout(
    () =>
      ready.reject(
        new Error(`${options.name} was not ready within ${timeoutMs} ms:\n${proc.tail.join("\n")}`),
      ),
    timeoutMs,
  );
  try {
    const { value, ms } = await ready.promise;
    return { proc, value, ms };
  } catch (error) {
    await proc.stop(1000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process this module started that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop(2000)));
}

/** Kills leftover processes whose command line carries `marker` (grandchildren of this run); returns how many. */
export function reapMarked(marker: string): number {
  const pids = pidsWithMarker(marker);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.length;
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resolves once `hostname:port` accepts TCP connections; rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  hostname = "127.0.0.1",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < deadline && i < 100_000; i++) {
    try {
      (await Deno.connect({ hostname, port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`Cannot connect to ${hostname}:${port}: nothing listened within ${timeoutMs} ms`);
}

async function stopProc(proc: Proc, group: boolean, graceMs: number): Promise<void> {
  if (proc.exited) {
    if (group) signal(-proc.pid, "SIGKILL");
    return;
  }
  signal(proc.pid, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    proc.child.status.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!exited) signal(proc.pid, "SIGKILL");
  await proc.child.status;
  // Whatever the child started in its own group goes with it.
  if (group) signal(-proc.pid, "SIGKILL");
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let buffer = "";
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    }
  } catch {
    // The pipe broke with the process.
  }
  if (buffer !== "") onLine(buffer);
}
