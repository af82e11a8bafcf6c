/**
 * The downstream HTTP/1.1 server on a `Deno.Listener`, in place of `Deno.serve`, which has no
 * header or idle timeout (denoland/deno#3515), no connection cap, and lets an accept error such
 * as "Too many open files" end the process. Here a head must arrive within a deadline, idle
 * connections are closed, open connections are capped (503 beyond), and accept errors are
 * logged and retried. One sweep timer serves every deadline; none is set per request.
 *
 * Answers whose type is `text/event-stream` are streamed in the chunked coding, each chunk as
 * it is produced; every other body is sent with `Content-Length` once complete.
 */
import type { Config } from "../config/mod.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { Handler } from "./router.ts";
import { type ConnectionHost, ServerConnection, type ServerLimits } from "./server_connection.ts";
import { plainResponse } from "./server_response.ts";

export type { ServerLimits } from "./server_connection.ts";

/** Options of {@link serveHttp}. */
export interface ServerOptions {
  limits: ServerLimits;
  log?: Logger;
}

/** The server limits of a config (`mcp.limits`). */
export function serverLimits(limits: Config["mcp"]["limits"]): ServerLimits {
  return {
    headerTimeoutMs: limits.header_timeout_seconds * 1000,
    idleTimeoutMs: limits.idle_timeout_seconds * 1000,
    maxConnections: limits.max_connections,
    maxHeaderBytes: limits.max_header_bytes,
  };
}

const MAX_ACCEPT_BACKOFF_MS = 1000;

/** A running server; {@link shutdown} (or `await using`) stops it gracefully. */
export class HttpServer implements ConnectionHost, AsyncDisposable {
  readonly handler: Handler;
  readonly limits: ServerLimits;
  readonly log: Logger;
  now = Date.now();
  date = new Date(this.now).toUTCString();
  closing = false;
  readonly #listener: Deno.Listener;
  readonly #connections = new Set<ServerConnection>();
  readonly #served = new Set<Promise<void>>();
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #accepting: Promise<void>;
  #full = false;
  #wake: (() => void) | undefined;

  constructor(listener: Deno.Listener, handler: Handler, options: ServerOptions) {
    this.#listener = listener;
    this.handler = handler;
    this.limits = options.limits;
    this.log = options.log ?? silentLogger;
    const { headerTimeoutMs, idleTimeoutMs } = this.limits;
    const tick = Math.min(1000, Math.max(10, Math.min(headerTimeoutMs, idleTimeoutMs) / 4));
    this.#sweep = setInterval(() => this.#expire(), tick);
    this.#accepting = this.#acceptLoop();
  }

  /** The address the listener is bound to. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stops accepting, closes idle connections, and resolves once every answer in progress ended. */
  async shutdown(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      this.#wake?.();
      for (const connection of this.#connections) connection.closeIfIdle();
    }
    await this.#accepting;
    while (this.#served.size > 0) await Promise.all(this.#served);
    clearInterval(this.#sweep);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  closed(connection: ServerConnection): void {
    this.#connections.delete(connection);
    if (this.#connections.size < this.limits.maxConnections) this.#full = false;
  }

  async #acceptLoop(): Promise<void> {
    let backoff = 0;
    while (!this.closing) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.closing || error instanceof Deno.errors.BadResource) return;
        if (backoff === 0) {
          this.log.error("Cannot accept connections; retrying", { error });
        }
        backoff = Math.min(MAX_ACCEPT_BACKOFF_MS, Math.max(10, backoff * 2));
        await this.#pause(backoff);
        continue;
      }
      if (backoff !== 0) {
        this.log.info("accepting connections again");
        backoff = 0;
      }
      if (this.closing) conn.close();
      else if (this.#connections.size >= this.limits.maxConnections) this.#refuse(conn);
      else this.#start(conn);
    }
  }

  #start(conn: Deno.Conn): void {
    try {
      // Event stream chunks are small separate writes; Nagle would hold each back for an ACK.
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // The peer already left.
    }
    const connection = new ServerConnection(conn, this);
    this.#connections.add(connection);
    const served = connection.serve();
    this.#served.add(served);
    served.finally(() => this.#served.delete(served));
  }

  /** Answers 503 naming the setting, then closes. */
  #refuse(conn: Deno.Conn): void {
    const max = this.limits.maxConnections;
    if (!this.#full) {
      this.#full = true;
      this.log.warn("refusing connections: mcp.limits.max_connections reached", {
        max_connections: max,
      });
    }
    const answer = plainResponse(
      503,
      `Service Unavailable: the gateway has ${max} open connections, its limit (mcp.limits.max_connections)`,
      this.date,
    );
    const close = () => {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    };
    conn.write(answer).then(close, close);
  }

  /** Waits before the next accept, unless the server shuts down first. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The sweep: advances the clock and times out connections past their deadline. */
  #expire(): void {
    const now = this.now = Date.now();
    this.date = new Date(now).toUTCString();
    const headerTimeout = this.limits.headerTimeoutMs;
    for (const connection of this.#connections) {
      if (connection.phase === "busy") continue;
      if (connection.deadline <= now) connection.expire();
      else if (connection.phase === "idle" && connection.hasBytes) {
        connection.phase = "head";
        connection.deadline = now + headerTimeout;
      }
    }
  }
}

/** Serves `handler` on `listener` until {@link HttpServer.shutdown}. */
export function serveHttp(
  listener: Deno.Listener,
  handler: Handler,
  options: ServerOptions,
): HttpServer {
  return new HttpServer(listener, handler, options);
}
