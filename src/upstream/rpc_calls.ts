/**
 * The requests one upstream session has in flight: each gets an id of our own counter (so
 * concurrent downstream clients never collide) and, when the caller asked for progress, a token
 * of ours in place of the caller's; its deadline sits on the shared timer, and a deadline or a
 * cancellation is told to this upstream only. Answers are matched back by id; what the upstream
 * sends on its own is routed over the same table by inbound.ts.
 */
import { GatewayError, McpError } from "../mcp/errors.ts";
import { withEnvelope } from "../mcp/era.ts";
import type {
  JsonObject,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from "../mcp/jsonrpc.ts";
import { isJsonObject as isObject } from "../mcp/jsonrpc.ts";
import { keepSource } from "../mcp/result_source.ts";
import type { Logger } from "../log.ts";
import { type Deadline, deadlines } from "./deadlines.ts";
import { type CallInFlight, TOKEN_PREFIX } from "./inbound.ts";
import type { MessageTransport } from "./transport.ts";

/** Per-request options. */
export interface RequestOptions {
  /** Cancels the request; the upstream is told (`notifications/cancelled`, or the stream closes). */
  signal?: AbortSignal;
  /** The deadline in milliseconds; 0 for none (a `subscriptions/listen` stream). */
  timeoutMs: number;
  /** Notifications related to this request (progress carries the caller's original token). */
  onNotification?(notification: JsonRpcNotification): void;
  /** Server→client requests raised while serving this request. */
  onRequest?(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject>;
  /** The downstream session the request serves: tells callers apart where the transport cannot. */
  owner?: string | undefined;
  /** For a 2026-07-28 upstream: the capabilities of the client the request serves. */
  clientCapabilities?: JsonObject;
  /** For a 2026-07-28 upstream: the log level of the client the request serves. */
  logLevel?: string | undefined;
  /** For a 2026-07-28 upstream: the called tool's input schema (its `x-mcp-header` params). */
  toolSchema?: unknown;
}

/** Options of {@link PendingCalls}. */
export interface PendingCallsOptions {
  server: string;
  transport: MessageTransport;
  log: Logger;
  /** Sends a notification upstream (where the upstream takes notifications). */
  notify(method: string, params: JsonObject): Promise<void>;
}

interface Pending extends CallInFlight {
  resolve(result: JsonObject): void;
  reject(error: Error): void;
  /** Aborts the transport's work for this request (fetch, stream read). */
  abort?(): void;
  options: RequestOptions;
}

/** The signal of a send with nothing to stop. */
const NEVER_ABORTED = new AbortController().signal;

/** The requests of one upstream session awaiting their answers. */
export class PendingCalls {
  readonly #options: PendingCallsOptions;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(options: PendingCallsOptions) {
    this.#options = options;
  }

  /** The calls in flight, by our request id. */
  get inFlight(): ReadonlyMap<number, CallInFlight> {
    return this.#pending;
  }

  /**
   * Sends one request and resolves with its result. A 2026-07-28 request carries `envelope` in
   * its `_meta` and `headers` as extra HTTP headers.
   */
  async send(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
    envelope?: JsonObject,
    headers?: Record<string, string>,
  ): Promise<JsonObject> {
    const id = this.#nextId++;
    const server = this.#options.server;
    const { promise, resolve, reject } = Promise.withResolvers<JsonObject>();
    const pending: Pending = { resolve, reject, options };
    let outParams = params;
    const meta = params?._meta;
    if (
      isObject(meta) &&
      (typeof meta.progressToken === "string" || typeof meta.progressToken === "number")
    ) {
      pending.progressToken = meta.progressToken;
      outParams = { ...params, _meta: { ...meta, progressToken: `${TOKEN_PREFIX}${id}` } };
    }
    if (envelope !== undefined) outParams = withEnvelope(outParams, envelope);
    this.#pending.set(id, pending);
    const request: JsonRpcRequest = outParams === undefined
      ? { jsonrpc: "2.0", id, method }
      : { jsonrpc: "2.0", id, method, params: outParams };
    // A transport that only writes has no work to stop: no controller for it.
    const work = this.#options.transport.writesOnly ? undefined : new AbortController();
    if (work !== undefined) pending.abort = () => work.abort();
    let timedOut = false;
    const onAbort = () => {
      work?.abort();
      reject(
        timedOut
          ? new GatewayError(
            "upstream_timeout",
            server,
            `Upstream '${server}' did not answer '${method}' within ${
              formatSeconds(options.timeoutMs)
            }`,
          )
          : new GatewayError(
            "upstream_cancelled",
            server,
            `Request '${method}' to upstream '${server}' was cancelled`,
          ),
      );
      // No handshake is cancelled: the spec forbids it for initialize (utilities/cancellation).
      if (method !== "initialize" && method !== "server/discover") {
        this.#options.notify("notifications/cancelled", {
          requestId: id,
          reason: timedOut ? "timeout" : "cancelled by client",
        })
          .catch(() => {});
      }
    };
    const caller = options.signal;
    // A deadline on the shared timer, not a setTimeout per request; 0 means none.
    const deadline: Deadline | undefined = options.timeoutMs > 0
      ? {
        at: Date.now() + options.timeoutMs,
        fire: () => {
          timedOut = true;
          onAbort();
        },
      }
      : undefined;
    if (deadline !== undefined) deadlines.add(deadline);
    if (caller?.aborted) onAbort();
    else {
      caller?.addEventListener("abort", onAbort, { once: true });
      this.#options.transport.send(request, work?.signal ?? NEVER_ABORTED, headers).catch(reject);
    }
    try {
      return await promise;
    } finally {
      if (deadline !== undefined) deadlines.delete(deadline);
      caller?.removeEventListener("abort", onAbort);
      this.#pending.delete(id);
    }
  }

  /**
   * Settles the call `response` answers: upstream JSON-RPC errors reject as McpError, unchanged;
   * a result keeps `source`, the text it was parsed from, for relaying it unchanged.
   */
  settle(response: JsonRpcResponse, source: string | undefined): void {
    const pending = typeof response.id === "number" ? this.#pending.get(response.id) : undefined;
    if (!pending) {
      this.#options.log.debug("ignored a response with an unknown id", { id: response.id ?? null });
      return;
    }
    if ("error" in response) {
      const err = response.error;
      pending.reject(new McpError(err.code, err.message, err.data));
    } else if (isObject(response.result)) {
      if (source !== undefined) keepSource(response.result, source);
      pending.resolve(response.result);
    } else pending.resolve({});
  }

  /** Rejects every call in flight with `error` and stops the transport's work for it. */
  failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      pending.reject(error);
      pending.abort?.();
    }
    this.#pending.clear();
  }
}

function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
