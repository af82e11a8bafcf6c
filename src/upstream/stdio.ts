/**
 * stdio upstream transport: a supervised child process speaking newline-delimited JSON-RPC on
 * stdin/stdout (MCP transports §stdio). stderr goes to the log line by line, cleaned up and with
 * its download/progress chatter collapsed (child_stderr.ts). The child runs in its own process
 * group, so stopping it ends everything it started: stdin is closed, then the group gets SIGTERM,
 * then SIGKILL after a grace period, and the child is always reaped.
 */
import { GatewayError } from "../mcp/errors.ts";
import type { JsonRpcMessage } from "../mcp/jsonrpc.ts";
import { describeError, type Logger } from "../log.ts";
import { ChildStderr, stripControls } from "./child_stderr.ts";
import { LineWriter } from "./line_writer.ts";
import { readLines } from "./stdio_lines.ts";
import type { ByteCounter, Deliver, MessageTransport } from "./transport.ts";

/** Options of {@link StdioTransport}. */
export interface StdioOptions {
  server: string;
  command: string;
  args: readonly string[];
  /** The child's environment: only these variables (plus PATH unless inherited). */
  env: Record<string, string>;
  /** Pass the gateway's whole environment too, except `withheldEnv`. */
  inheritEnv: boolean;
  /** Variables never inherited: the ones the gateway reads its own secrets from. */
  withheldEnv: readonly string[];
  cwd?: string;
  log: Logger;
  /** How long the child gets after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** The PATH given to the child when the environment is not inherited. */
  path?: string;
  /** Counts message bytes in both directions. */
  countBytes?: ByteCounter;
}

const encoder = new TextEncoder();
const DEFAULT_GRACE_MS = 2000;
const STDIN_GRACE_MS = 500;
/** The longest line read from stdout, in characters. */
const MAX_LINE = 64 * 1024 * 1024;
/** Stderr lines are logged shortened anyway; the rest of a longer one is dropped. */
const MAX_STDERR_LINE = 64 * 1024;

/** One child process seen as an MCP session. */
export class StdioTransport implements MessageTransport {
  readonly kind = "stdio" as const;
  readonly correlates = false;
  readonly writesOnly = true;
  readonly #options: StdioOptions;
  #child: Deno.ChildProcess | undefined;
  #stdin: LineWriter | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Why the child was ended for what it wrote, if it was. */
  #failure: GatewayError | undefined;

  constructor(options: StdioOptions) {
    this.#options = options;
  }

  /** The child's process id, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    const { server, command, args, log } = this.#options;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: [...args],
        env: this.#childEnv(),
        clearEnv: true,
        ...(this.#options.cwd === undefined ? {} : { cwd: this.#options.cwd }),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      throw new GatewayError(
        "upstream_unreachable",
        server,
        `Cannot start upstream '${server}' (${command}): ${describeError(error)}`,
        { cause: error },
      );
    }
    this.#child = child;
    this.#stdin = new LineWriter(child.stdin.getWriter(), (error) =>
      new GatewayError(
        "upstream_disconnected",
        server,
        `Cannot write to upstream '${server}': ${describeError(error)}`,
        { cause: error },
      ));
    this.#status = child.status;
    log.info("started upstream process", { pid: child.pid, command });
    this.#failure = undefined;
    const childStderr = new ChildStderr(log);
    const stdout = readLines(child.stdout, MAX_LINE, {
      line: (line) => this.#stdoutLine(line, deliver, childStderr),
      tooLong: (start) =>
        this.#refuse(`wrote a line of more than ${MAX_LINE} characters on stdout`, MAX_LINE, start),
    });
    const stderr = readLines(child.stderr, MAX_STDERR_LINE, {
      line: (line) => (childStderr.line(line), true),
      // Only the start of a line is logged anyway; the rest of it is dropped.
      tooLong: (
        start,
      ) => (childStderr.line(`${start}… (over ${MAX_STDERR_LINE} characters)`), true),
    }).finally(() => childStderr.flush());
    Promise.all([this.#status, stdout, stderr]).then(([status]) => {
      if (this.#closing) return;
      const how = status.signal
        ? `was killed by ${status.signal}`
        : `exited with code ${status.code}`;
      log.warn("upstream process ended", {
        pid: child.pid,
        code: status.code,
        signal: status.signal,
      });
      onClose(
        this.#failure ??
          new GatewayError("upstream_disconnected", server, `Upstream '${server}' process ${how}`),
      );
    });
    return Promise.resolve();
  }

  /** One line of the child's stdout: its message (or batch) delivered; false when it is not JSON. */
  #stdoutLine(line: string, deliver: Deliver, childStderr: ChildStderr): boolean {
    // The child is up: what it printed while starting is summed up before its own messages.
    childStderr.flush();
    let message: unknown;
    try {
      this.#options.countBytes?.("received", line.length + 1);
      message = JSON.parse(line);
    } catch {
      const bytes = encoder.encode(line).length;
      return this.#refuse(
        `wrote a line that is not JSON-RPC on stdout (${bytes} bytes)`,
        bytes,
        line,
      );
    }
    // A message on its own line keeps its text: a result only relayed is written from it.
    if (!Array.isArray(message)) deliver(message as JsonRpcMessage, undefined, line);
    else for (const item of message) deliver(item as JsonRpcMessage);
    return true;
  }

  /** Ends a child that broke the framing; the error names what it wrote, never its text. */
  #refuse(what: string, bytes: number, line: string): false {
    const server = this.#options.server;
    this.#failure = new GatewayError(
      "upstream_protocol_error",
      server,
      `Upstream '${server}' ${what}`,
    );
    this.#options.log.error("upstream wrote garbage on stdout; restarting it", { bytes });
    // Children print banners with secrets in them: the line itself is only logged at debug.
    this.#options.log.debug("upstream stdout line that is not JSON-RPC", {
      line: stripControls(line.slice(0, 200)),
    });
    this.#terminate();
    return false;
  }

  /**
   * The child's whole environment: PATH and `env`; or, with `inheritEnv`, the gateway's own
   * without the variables its secrets come from (a child may show its environment to clients,
   * as server-everything's get-env tool does), then `env`.
   */
  #childEnv(): Record<string, string> {
    const { env, inheritEnv, withheldEnv, path } = this.#options;
    if (!inheritEnv) {
      return { PATH: path ?? Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin", ...env };
    }
    let inherited: Record<string, string>;
    try {
      inherited = Deno.env.toObject();
    } catch (error) {
      throw new Error(
        "inherit_env needs to read the whole environment (--allow-env) to leave the gateway's " +
          "secrets out of it",
        { cause: error },
      );
    }
    for (const name of withheldEnv) delete inherited[name];
    return { ...inherited, ...env };
  }

  /** Writes the message as one line; lines sent while a write is in progress go out together. */
  send(message: JsonRpcMessage, signal: AbortSignal): Promise<void> {
    const stdin = this.#stdin;
    if (!stdin || this.#closing) {
      const server = this.#options.server;
      return Promise.reject(
        new GatewayError("upstream_closed", server, `Upstream '${server}' process is not running`),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const line = JSON.stringify(message) + "\n";
    this.#options.countBytes?.("sent", line.length);
    return stdin.write(line);
  }

  initialized(): void {}

  resetSession(): void {}

  close(): Promise<void> {
    this.#closed ??= this.#stop();
    return this.#closed;
  }

  async #stop(): Promise<void> {
    this.#closing = true;
    const child = this.#child;
    if (!child || !this.#status) return;
    await this.#stdin?.close().catch(() => {});
    const grace = this.#options.killGraceMs ?? DEFAULT_GRACE_MS;
    if (await exitsWithin(this.#status, STDIN_GRACE_MS)) return;
    signalGroup(child, "SIGTERM");
    if (await exitsWithin(this.#status, grace)) {
      signalGroup(child, "SIGKILL");
      return;
    }
    this.#options.log.warn("upstream process ignored SIGTERM; killing it", { pid: child.pid });
    signalGroup(child, "SIGKILL");
    await this.#status;
  }

  #terminate(): void {
    if (this.#child) signalGroup(this.#child, "SIGKILL");
  }
}

/**
 * Sends a signal to the child's whole process group; a group that is already gone is fine.
 * Deno allows signalling a group only with `--allow-run` for every command; under a narrower
 * `--allow-run` the child alone is signalled (what it started may then outlive it).
 */
function signalGroup(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    Deno.kill(-child.pid, signal);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return;
    try {
      child.kill(signal);
    } catch {
      // The child has exited.
    }
  }
}

async function exitsWithin(status: Promise<Deno.CommandStatus>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([status.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
