/**
 * Runs the HTTP fixture as a separate process, for "upstream killed mid-call" tests.
 *
 * @module
 */

/** A fixture process started by {@linkcode spawnFixture}. */
export interface SpawnedFixture extends AsyncDisposable {
  /** The endpoint URL from the `READY <url>` line. */
  url: string;
  /** Process id. */
  pid: number;
  /** The child process (its stdout and stderr are drained by this module). */
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr; resolves once the process has exited. */
  stderr: Promise<string>;
  /** Sends `signal` (default SIGTERM) unless it already exited, then awaits its exit. */
  kill(signal?: Deno.Signal): Promise<void>;
}

/** How long {@linkcode spawnFixture} waits for the `READY` line. */
export const READY_TIMEOUT_MS = 10_000;

const FIXTURE = new URL("../fixtures/http_server.ts", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

/**
 * The config of the tests and benchmarks (`tests/deno.json`, with its own lockfile): it maps the
 * packages only they use (the SDK, playwright-core, ...), so the gateway's own `deno.json` and
 * `deno.lock` name nothing but what the gateway imports. Every Deno child that runs test code
 * is started with `--config` set to this.
 */
export const TEST_CONFIG: string = new URL("../deno.json", import.meta.url).pathname;

/**
 * Runs `deno run --config tests/deno.json -A tests/fixtures/http_server.ts ...args` and resolves
 * once it printed `READY <url>`.
 * On timeout or early exit, kills it and throws with its stderr.
 */
export async function spawnFixture(args: readonly string[] = []): Promise<SpawnedFixture> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", TEST_CONFIG, "-A", FIXTURE.href, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  // Keeps reading stdout after READY so the pipe never fills and is closed at exit.
  let drained: Promise<void> = Promise.resolve();
  const kill = async (signal: Deno.Signal = "SIGTERM"): Promise<void> => {
    if (!exited) {
      try {
        Deno.kill(child.pid, signal);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    await status;
    await drained;
    await stderr;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no READY line within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
  });
  let url: string;
  try {
    url = await Promise.race([readReadyLine(stdout), timeout]);
  } catch (error) {
    await stdout.cancel().catch(() => {});
    await kill("SIGKILL");
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot spawn fixture: ${reason}; stderr: ${await stderr}`);
  } finally {
    clearTimeout(timer);
  }
  drained = (async () => {
    while (!(await stdout.read()).done) { /* discard */ }
  })();
  return {
    url,
    pid: child.pid,
    child,
    stderr,
    kill,
    [Symbol.asyncDispose]: () => kill("SIGKILL"),
  };
}

async function readReadyLine(stdout: ReadableStreamDefaultReader<string>): Promise<string> {
  let buffer = "";
  while (true) {
    const { value, done } = await stdout.read();
    if (done) throw new Error(`exited before READY (stdout: ${JSON.stringify(buffer)})`);
    buffer += value;
    const end = buffer.indexOf("\n");
    if (end === -1) continue;
    const line = buffer.slice(0, end).trim();
    if (!line.startsWith("READY ")) {
      throw new Error(`unexpected first line ${JSON.stringify(line)}`);
    }
    return line.slice("READY ".length);
  }
}

/** A running `mcpstead` process, started by {@linkcode serveGateway}. */
export interface GatewayProcess extends AsyncDisposable {
  /** `host:port` from the "mcpstead listening" log line. */
  address: string;
  child: Deno.ChildProcess;
  /** Everything logged so far (JSON lines). */
  log(): string;
  /** Sends SIGTERM (or `signal`) and resolves with the exit code once the log is drained. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** Resolves with the exit code once the process ended by itself and the log is drained. */
  exited(): Promise<number>;
}

/** Options of {@linkcode serveGateway}. */
export interface ServeOptions {
  cwd?: string;
  denoFlags?: readonly string[];
  /** Permission flags instead of `-A`. */
  permissions?: readonly string[];
  /** The whole environment of the process (instead of this one's). */
  env?: Record<string, string>;
}

/**
 * Runs `deno run -A <entry> ...args --log-format json` and resolves once it logged the address
 * it listens on; stderr keeps being read so the pipe never fills.
 */
export async function serveGateway(
  entry: string,
  args: readonly string[],
  options: ServeOptions = {},
): Promise<GatewayProcess> {
  const denoArgs = [...(options.denoFlags ?? []), ...(options.permissions ?? ["-A"])];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...denoArgs, entry, ...args, "--log-format", "json"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  let address: string | undefined;
  while (address === undefined) {
    const { value, done } = await lines.read();
    if (done) break;
    log += value;
    address = /"address":"([^"]+)"/.exec(log)?.[1];
  }
  const drained = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      log += value;
    }
  })();
  if (address === undefined) {
    await child.status;
    throw new Error(
      `Cannot serve under ${denoArgs.join(" ")}: the gateway exited before listening; log: ${log}`,
    );
  }
  const exited = async () => {
    const status = await child.status;
    await drained;
    return status.code;
  };
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
    return exited();
  };
  return {
    address,
    child,
    log: () => log,
    stop,
    exited,
    [Symbol.asyncDispose]: async () => void (await stop("SIGKILL")),
  };
}
