/**
 * The load generator: a separate process, so its CPU is never the gateway's. It reads one JSON
 * {@linkcode Command} per stdin line and answers one JSON {@linkcode Result} line on stdout.
 * Every virtual client has its own MCP session on its own kept-alive HTTP/1.1 connection.
 *
 * ```sh
 * deno run --allow-all bench/loadgen.ts   # reading /proc/<pid> needs --allow-all in Deno 2
 * ```
 *
 * @module
 */
import { cpuDelta, cpuSnapshot } from "./proc_stats.ts";
import { encodeRequest, Http1Connection } from "./http1_client.ts";
import { isResult, parseTarget, RawMcpSession } from "./raw_mcp_session.ts";
import { type LoadClient, MODERN_VERSION, RawModernClient } from "./raw_modern_client.ts";

/** Sessions making requests in a loop, measured over a window. */
export interface CallsCommand {
  op: "calls";
  /** The MCP endpoint, or several separated by commas (round robin per request). */
  url: string;
  /** Concurrent sessions (each its own connection). */
  clients: number;
  /** The revision the clients speak: 2025 sessions (the default), or sessionless 2026-07-28. */
  era?: "2025-11-25" | typeof MODERN_VERSION;
  method: string;
  /** The request params as JSON text. */
  params: string;
  /** Count mode: calls per client before the window, and in it. */
  warmupCalls?: number;
  calls?: number;
  /** Duration mode: time before the window, and its length. */
  warmupMs?: number;
  durationMs?: number;
  /** Processes whose CPU time is read at the window's edges (the generator adds itself). */
  watch?: Record<string, number>;
  /** Keep the latency of every call in the answer (default true). */
  samples?: boolean;
}

/** Opens sessions (initialize + initialized) without closing them. */
export interface SessionsCommand {
  op: "sessions";
  url: string;
  count: number;
  /** Connections used in parallel. */
  concurrency: number;
}

/** What the generator is asked to do. */
export type Command = CallsCommand | SessionsCommand | { op: "exit" };

/** The answer to a command. */
export interface Result {
  ok: boolean;
  /** Requests completed inside the window (or sessions opened). */
  completed: number;
  errors: number;
  /** The first error seen, shortened. */
  firstError?: string;
  /** The window's length in milliseconds. */
  windowMs: number;
  /** Latency of each call completed in the window, in ms (when samples were asked for). */
  latenciesMs?: number[];
  /** CPU seconds used in the window, per watched process, plus `loadgen`. */
  cpuSeconds?: Record<string, number>;
}

const decoder = new TextDecoder();

async function runCalls(command: CallsCommand): Promise<Result> {
  // Several URLs (comma-separated, 2025 sessions only): each session sends each request to the
  // next one.
  const targets = command.url.split(",").map(parseTarget);
  const open = (): Promise<LoadClient> =>
    command.era === MODERN_VERSION
      ? RawModernClient.open(targets[0]!)
      : RawMcpSession.open(targets);
  const sessions = await Promise.all(Array.from({ length: command.clients }, open));
  const watch = { ...command.watch, loadgen: Deno.pid };
  const latencies: number[] = [];
  const keep = command.samples !== false;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let windowStart: number | undefined;
  let windowEnd: number | undefined;
  let cpuStart: Record<string, number> = {};
  let cpuEnd: Record<string, number> = {};
  let stopped = false;

  const one = async (session: LoadClient): Promise<void> => {
    const began = performance.now();
    let ok = false;
    try {
      const res = await session.request(command.method, command.params);
      ok = isResult(res);
      if (!ok) firstError ??= `HTTP ${res.status}: ${decoder.decode(res.body.subarray(0, 300))}`;
    } catch (error) {
      firstError ??= String(error);
      stopped = true;
    }
    const ended = performance.now();
    if (windowStart === undefined || windowEnd !== undefined) return;
    if (!ok) errors++;
    else {
      completed++;
      if (keep) latencies.push(Math.round((ended - began) * 10_000) / 10_000);
    }
  };
  const openWindow = () => {
    cpuStart = cpuSnapshot(watch);
    windowStart = performance.now();
  };
  const closeWindow = () => {
    windowEnd = performance.now();
    cpuEnd = cpuSnapshot(watch);
    stopped = true;
  };

  if (command.calls !== undefined) {
    await Promise.all(sessions.map(async (session) => {
      for (let i = 0; i < (command.warmupCalls ?? 0) && !stopped; i++) await one(session);
    }));
    openWindow();
    await Promise.all(sessions.map(async (session) => {
      for (let i = 0; i < command.calls! && !stopped; i++) await one(session);
    }));
    closeWindow();
  } else {
    const warmupMs = command.warmupMs ?? 0;
    const durationMs = command.durationMs ?? 1000;
    const timers = [
      setTimeout(openWindow, warmupMs),
      setTimeout(closeWindow, warmupMs + durationMs),
    ];
    await Promise.all(sessions.map(async (session) => {
      while (!stopped) await one(session);
    }));
    for (const timer of timers) clearTimeout(timer);
    if (windowEnd === undefined) closeWindow();
  }
  await Promise.all(sessions.map((session) => session.close()));
  const windowMs = windowEnd! - (windowStart ?? windowEnd!);
  return {
    ok: errors === 0 && firstError === undefined,
    completed,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    windowMs,
    ...(keep ? { latenciesMs: latencies } : {}),
    cpuSeconds: cpuDelta(cpuStart, cpuEnd),
  };
}

async function runSessions(command: SessionsCommand): Promise<Result> {
  const target = parseTarget(command.url);
  const host = `${target.hostname}:${target.port}`;
  const base = "content-type: application/json\r\naccept: application/json, text/event-stream\r\n";
  const init = encodeRequest(
    "POST",
    target.path,
    host,
    base,
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",' +
      '"capabilities":{},"clientInfo":{"name":"mcpstead-loadgen","version":"1.0.0"}}}',
  );
  let next = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  await Promise.all(Array.from({ length: command.concurrency }, async () => {
    let conn = await Http1Connection.open(target.hostname, target.port);
    while (next < command.count) {
      next++;
      try {
        if (conn.closed) conn = await Http1Connection.open(target.hostname, target.port);
        const res = await conn.request(init);
        if (res.status !== 200 || res.sessionId === undefined) {
          throw new Error(`HTTP ${res.status}`);
        }
        const done = await conn.request(
          encodeRequest(
            "POST",
            target.path,
            host,
            `${base}mcp-protocol-version: 2025-11-25\r\nmcp-session-id: ${res.sessionId}\r\n`,
            '{"jsonrpc":"2.0","method":"notifications/initialized"}',
          ),
        );
        if (done.status !== 202) throw new Error(`initialized: HTTP ${done.status}`);
        completed++;
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
    }
    conn.close();
  }));
  return {
    ok: errors === 0,
    completed,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    windowMs: performance.now() - began,
  };
}

async function serve(): Promise<void> {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text + "\n"));
  write("LOADGEN READY");
  let buffer = "";
  for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line === "") continue;
      const command = JSON.parse(line) as Command;
      if (command.op === "exit") return;
      let result: Result;
      try {
        result = command.op === "calls" ? await runCalls(command) : await runSessions(command);
      } catch (error) {
        result = { ok: false, completed: 0, errors: 1, firstError: String(error), windowMs: 0 };
      }
      write(JSON.stringify(result));
    }
  }
}

if (import.meta.main) await serve();
