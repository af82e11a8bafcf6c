/**
 * Upstream instances owned by one downstream session: a child process per session for stdio
 * servers with `sharing: per_session`, an upstream session per client for HTTP servers with
 * `session: per_client`. Started at the session's first call, closed when the session ends,
 * and capped, so a crowd of clients cannot start unbounded processes.
 */
import { GatewayError } from "../mcp/errors.ts";
import type { JsonObject, JsonRpcNotification, JsonRpcRequest } from "../mcp/jsonrpc.ts";
import { describeError, type Logger } from "../log.ts";
import type { InboundHandlers } from "./inbound.ts";
import type { UpstreamClient } from "./supervisor.ts";

/** The downstream session an instance belongs to. */
export interface SessionRef {
  id: string;
  /** What the client declared; the instance declares the same to its upstream. */
  capabilities: JsonObject;
}

/** Options of {@link SessionInstances}. */
export interface SessionInstancesOptions {
  server: string;
  maxInstances: number;
  createClient(handlers: InboundHandlers, capabilities: JsonObject): UpstreamClient;
  /** Notifications of a session's instance not tied to a request. */
  onNotification(notification: JsonRpcNotification, sessionId: string): void;
  /** Requests of a session's instance not tied to a request of ours (e.g. roots/list). */
  onRequest(request: JsonRpcRequest, sessionId: string, signal: AbortSignal): Promise<JsonObject>;
  log: Logger;
  /** Milliseconds since the epoch (the supervisor's clock). */
  now(): number;
}

/** The per-session instances of one upstream server. */
export class SessionInstances {
  readonly #options: SessionInstancesOptions;
  readonly #instances = new Map<string, Promise<UpstreamClient>>();
  /** When each instance was last asked for, by session key. */
  readonly #used = new Map<string, number>();

  constructor(options: SessionInstancesOptions) {
    this.#options = options;
  }

  /** Number of instances started or starting. */
  get size(): number {
    return this.#instances.size;
  }

  /** The session's instance, started and initialized on first use. */
  get(session: SessionRef, signal: AbortSignal): Promise<UpstreamClient> {
    this.#used.set(session.id, this.#options.now());
    const existing = this.#instances.get(session.id);
    if (existing) return existing;
    const { server, maxInstances } = this.#options;
    if (this.#instances.size >= maxInstances) {
      return Promise.reject(
        new GatewayError(
          "upstream_busy",
          server,
          `Upstream '${server}' already runs ${maxInstances} per-session instances (max_instances)`,
        ),
      );
    }
    const capabilities = pick(session.capabilities, ["sampling", "elicitation", "roots"]);
    const client = this.#options.createClient({
      onNotification: (notification) => this.#options.onNotification(notification, session.id),
      onRequest: (request, signal) => this.#options.onRequest(request, session.id, signal),
      onClose: () => {
        if (this.#instances.get(session.id) === started) this.#instances.delete(session.id);
      },
    }, capabilities);
    const started = client.connect(signal).then(() => client, async (error) => {
      this.#instances.delete(session.id);
      await client.close().catch(() => {});
      throw error;
    });
    this.#instances.set(session.id, started);
    this.#options.log.debug("started a per-session upstream instance", { session: session.id });
    return started;
  }

  /** The session's instance, if it has one. */
  existing(sessionId: string): Promise<UpstreamClient> | undefined {
    return this.#instances.get(sessionId);
  }

  /**
   * Closes instances unused for `idleMs` whose key `ended` says has no session any more (a
   * 2026-07-28 caller has none: its instances are keyed by principal and only idle out).
   */
  releaseIdle(idleMs: number, ended: (key: string) => boolean): Promise<void>[] {
    const cutoff = this.#options.now() - idleMs;
    const idle = [...this.#used].filter(([key, at]) => at < cutoff && ended(key));
    return idle.map(([key]) => this.release(key));
  }

  /** Closes the session's instance, if it has one. */
  async release(sessionId: string): Promise<void> {
    this.#used.delete(sessionId);
    const instance = this.#instances.get(sessionId);
    if (!instance) return;
    this.#instances.delete(sessionId);
    try {
      await (await instance).close();
    } catch (error) {
      this.#options.log.debug("a per-session instance failed to start or stop", {
        error: describeError(error),
      });
    }
  }

  /** Closes every instance. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#instances.keys()].map((id) => this.release(id)));
  }
}

function pick(object: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key]!;
  return out;
}
