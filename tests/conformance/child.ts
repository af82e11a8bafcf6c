/**
 * The child processes of `run.ts` (fixture, gateway, suite): stopping them by pid and reading
 * their output by lines.
 *
 * @module
 */

const STOP_GRACE_MS = 5_000;
const encoder = new TextEncoder();
const note = (text: string) => Deno.stderr.writeSync(encoder.encode(`conformance: ${text}\n`));

/** A child process this script started and must stop. */
export interface Managed {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  /** SIGTERM, then SIGKILL after {@linkcode STOP_GRACE_MS}; resolves once it exited. */
  stop(): Promise<void>;
}

/** Wraps a started child so it can be stopped: SIGTERM, then SIGKILL after a grace period. */
export function manage(name: string, child: Deno.ChildProcess): Managed {
  let exited = false;
  const status = child.status.finally(() => {
    exited = true;
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited) signal(child.pid, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS);
      });
      const outcome = await Promise.race([status, grace]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        note(`${name} (pid ${child.pid}) ignored SIGTERM for ${STOP_GRACE_MS} ms; sending SIGKILL`);
        signal(child.pid, "SIGKILL");
        await status;
      }
    })();
    return stopping;
  };
  return { name, child, stop };
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Lines of a byte stream, without their line ends; the last line may lack one. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** Rejects with "no <what> within <ms> ms" unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
