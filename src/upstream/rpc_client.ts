/**
 * The gateway's client side of one upstream session, over any {@link MessageTransport}: the
 * handshake, request ids rewritten to our own counter (so concurrent downstream clients never
 * collide), progress tokens mapped both ways, deadlines, cancellation sent to this upstream
 * only, and one transparent re-initialize when the upstream expired our session.
 *
 * Which call a message belongs to: the one whose stream carried it (Streamable HTTP). On a
 * transport that cannot tell (stdio, legacy SSE), a server→client request goes to the call whose
 * progress token its `_meta` carries, else to the oldest call in flight when every call in
 * flight serves one downstream session, else it is refused (one client's request never reaches
 * another); a log message goes once to each downstream session with a call in flight, and to no
 * idle session. Resource updates and list changes always go to the shared handlers, which know
 * the subscribers and refresh the lists.
 */
import { GatewayError, McpError } from "../mcp/errors.ts";
import type {
  JsonObject,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { ErrorCode, isJsonObject as isObject } from "../mcp/jsonrpc.ts";
import { LATEST_PROTOCOL_VERSION } from "../mcp/protocol.ts";
import { describeError, type Logger } from "../log.ts";
import { type MessageTransport, SessionExpiredError } from "./transport.ts";

/** Receives notifications and server→client requests from the upstream. */
export interface InboundHandlers {
  /** A notification not tied to a request of ours (or whose request has no handler). */
  onNotification?(notification: JsonRpcNotification): void;
  /** A server→client request; the returned result (or thrown McpError) is sent back upstream. */
  onRequest?(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject>;
  /** The transport closed while we did not ask it to. */
  onClose?(error: Error | undefined): void;
}

/** Per-request options. */
export interface RequestOptions {
  /** Cancels the request; the upstream is sent `notifications/cancelled`. */
  signal?: AbortSignal;
  /** The deadline in milliseconds. */
  timeoutMs: number;
  /** Notifications related to this request (progress carries the caller's original token). */
  onNotification?(notification: JsonRpcNotification): void;
  /** Server→client requests raised while serving this request. */
  onRequest?(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject>;
  /** The downstream session the request serves: tells callers apart where the transport cannot. */
  owner?: string | undefined;
}

/** What the upstream answered to `initialize`. */
export interface InitializeResult {
  protocolVersion: string;
  capabilities: JsonObject;
  serverInfo: JsonObject;
  instructions?: string;
}

/** Options of {@link RpcClient}. */
export interface RpcClientOptions {
  server: string;
  transport: MessageTransport;
  clientInfo: { name: string; version: string };
  /** Client capabilities declared to the upstream. */
  capabilities?: JsonObject;
  handlers?: InboundHandlers;
  log: Logger;
  /** Deadline of the handshake, in milliseconds. */
  timeoutMs: number;
  /** Called when the upstream expired our session and it is re-initialized. */
  onSessionReset?(): void;
}

interface Pending {
  resolve(result: JsonObject): void;
  reject(error: Error): void;
  /** Aborts the transport's work for this request (fetch, stream read). */
  abort?(): void;
  options: RequestOptions;
  progressToken?: string | number;
}

const HANDSHAKE = "initialize";

/** Our progress tokens upstream: a string, so an upstream's own numeric token never matches one. */
const TOKEN_PREFIX = "mcpstead-";

/** Notifications about the upstream as a whole, whatever stream carried them. */
const SHARED = new Set([
  "notifications/resources/updated",
  "notifications/resources/list_changed",
  "notifications/tools/list_changed",
  "notifications/prompts/list_changed",
]);

/** The setting that gives each client its own upstream, per transport that cannot correlate. */
const OWN_UPSTREAM: Partial<Record<MessageTransport["kind"], string>> = {
  stdio: "sharing: per_session",
  sse: "session: per_client",
};

/** One upstream session seen as a JSON-RPC peer. */
export class RpcClient {
  readonly #options: RpcClientOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #inbound = new Map<string | number, AbortController>();
  #nextId = 1;
  #generation = 0;
  #reinit: Promise<void> | undefined;
  #closed = false;
  #initialized: InitializeResult | undefined;

  constructor(options: RpcClientOptions) {
    this.#options = options;
  }

  /** The transport in use. */
  get transport(): MessageTransport {
    return this.#options.transport;
  }

  /** The handshake result, once connected. */
  get initializeResult(): InitializeResult | undefined {
    return this.#initialized;
  }

  /** Opens the transport and performs initialize + notifications/initialized. */
  async connect(signal?: AbortSignal): Promise<InitializeResult> {
    await this.#options.transport.open(
      (message, relatedTo) => this.#receive(message, relatedTo),
      (error) => this.#onTransportClose(error),
    );
    await this.#handshake(signal);
    return this.#initialized!;
  }

  /** Sends a request and resolves with its result; upstream JSON-RPC errors reject as McpError, unchanged. */
  async request(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
  ): Promise<JsonObject> {
    if (this.#closed) {
      throw new GatewayError(
        "upstream_closed",
        this.#options.server,
        `Upstream '${this.#options.server}' is closed`,
      );
    }
    const generation = this.#generation;
    try {
      return await this.#send(method, params, options);
    } catch (error) {
      if (!(error instanceof SessionExpiredError) || method === HANDSHAKE) throw error;
      this.#options.log.info("upstream session expired; re-initializing", { method });
      this.#options.onSessionReset?.();
      await this.#reinitialize(generation, options.signal);
      try {
        return await this.#send(method, params, options);
      } catch (retryError) {
        if (!(retryError instanceof SessionExpiredError)) throw retryError;
        const server = this.#options.server;
        throw new GatewayError(
          "upstream_protocol_error",
          server,
          `Upstream '${server}' rejected a new session at once; the request was not processed`,
          { cause: retryError },
        );
      }
    }
  }

  /** Sends a notification. */
  async notify(method: string, params?: JsonObject): Promise<void> {
    const message: JsonRpcNotification = params === undefined
      ? { jsonrpc: "2.0", method }
      : { jsonrpc: "2.0", method, params };
    await this.#options.transport.send(message, AbortSignal.timeout(this.#options.timeoutMs));
  }

  /** Rejects every pending request and closes the transport. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(
      new GatewayError(
        "upstream_closed",
        this.#options.server,
        `Upstream '${this.#options.server}' was stopped`,
      ),
    );
    for (const controller of this.#inbound.values()) controller.abort();
    await this.#options.transport.close();
  }

  async #handshake(signal?: AbortSignal): Promise<void> {
    const params: JsonObject = {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: this.#options.capabilities ?? {},
      clientInfo: this.#options.clientInfo,
    };
    const result = await this.#send(HANDSHAKE, params, {
      timeoutMs: this.#options.timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (typeof result.protocolVersion !== "string") {
      throw new GatewayError(
        "upstream_protocol_error",
        this.#options.server,
        `Upstream '${this.#options.server}' answered initialize without a protocolVersion`,
      );
    }
    this.#initialized = {
      protocolVersion: result.protocolVersion,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
      serverInfo: isObject(result.serverInfo) ? result.serverInfo : {},
      ...(typeof result.instructions === "string" ? { instructions: result.instructions } : {}),
    };
    this.#options.transport.initialized(result.protocolVersion);
    await this.notify("notifications/initialized");
  }

  #reinitialize(generation: number, signal?: AbortSignal): Promise<void> {
    if (generation !== this.#generation) return Promise.resolve();
    this.#reinit ??= (async () => {
      try {
        this.#options.transport.resetSession();
        await this.#handshake(signal);
        this.#generation++;
      } finally {
        this.#reinit = undefined;
      }
    })();
    return this.#reinit;
  }

  async #send(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
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
    this.#pending.set(id, pending);
    const request: JsonRpcRequest = outParams === undefined
      ? { jsonrpc: "2.0", id, method }
      : { jsonrpc: "2.0", id, method, params: outParams };
    const work = new AbortController();
    pending.abort = () => work.abort();
    let timedOut = false;
    const onAbort = () => {
      work.abort();
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
      if (method !== HANDSHAKE) {
        this.notify("notifications/cancelled", {
          requestId: id,
          reason: timedOut ? "timeout" : "cancelled by client",
        })
          .catch(() => {});
      }
    };
    const caller = options.signal;
    const timer = setTimeout(() => {
      timedOut = true;
      onAbort();
    }, options.timeoutMs);
    if (caller?.aborted) onAbort();
    else caller?.addEventListener("abort", onAbort, { once: true });
    try {
      this.#options.transport.send(request, work.signal).catch(reject);
      return await promise;
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
      this.#pending.delete(id);
    }
  }

  #receive(message: JsonRpcMessage, relatedTo?: number): void {
    if ("method" in message) {
      if ("id" in message && message.id !== undefined && message.id !== null) {
        this.#serveInbound(message as JsonRpcRequest, relatedTo);
      } else {
        this.#routeNotification(message, relatedTo);
      }
      return;
    }
    const pending = typeof message.id === "number" ? this.#pending.get(message.id) : undefined;
    if (!pending) {
      this.#options.log.debug("ignored a response with an unknown id", { id: message.id ?? null });
      return;
    }
    if ("error" in message) {
      const err = message.error;
      pending.reject(new McpError(err.code, err.message, err.data));
    } else {
      pending.resolve(isObject(message.result) ? message.result : {});
    }
  }

  #routeNotification(notification: JsonRpcNotification, relatedTo?: number): void {
    if (notification.method === "notifications/progress") {
      const pending = this.#byToken(notification.params?.progressToken);
      if (pending?.progressToken === undefined) return;
      pending.options.onNotification?.({
        ...notification,
        params: { ...notification.params, progressToken: pending.progressToken },
      });
      return;
    }
    if (notification.method === "notifications/cancelled") {
      const requestId = notification.params?.requestId;
      if (typeof requestId === "string" || typeof requestId === "number") {
        this.#inbound.get(requestId)?.abort();
      }
      return;
    }
    const shared = this.#options.handlers?.onNotification;
    if (SHARED.has(notification.method)) return shared?.(notification);
    if (relatedTo !== undefined) {
      const related = this.#pending.get(relatedTo)?.options.onNotification;
      return related ? related(notification) : shared?.(notification);
    }
    const callers = notification.method === "notifications/message" &&
        !this.#options.transport.correlates
      ? this.#callers()
      : [];
    if (callers.length === 0) return shared?.(notification);
    for (const caller of callers) caller.options.onNotification?.(notification);
  }

  /** The request of ours whose progress token (as we sent it upstream) is `token`. */
  #byToken(token: unknown): Pending | undefined {
    if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) return undefined;
    const pending = this.#pending.get(Number(token.slice(TOKEN_PREFIX.length)));
    return pending?.progressToken === undefined ? undefined : pending;
  }

  /**
   * The oldest call in flight of each downstream session (of each call, when it names no
   * owner); the gateway's own requests (listings, pings) relay nothing and do not count.
   */
  #callers(): Pending[] {
    const oldest = new Map<unknown, Pending>();
    for (const pending of this.#pending.values()) {
      if (!pending.options.onRequest && !pending.options.onNotification) continue;
      const owner = pending.options.owner ?? pending;
      if (!oldest.has(owner)) oldest.set(owner, pending);
    }
    return [...oldest.values()];
  }

  /**
   * The call a server→client request belongs to (undefined: none, the shared handlers answer);
   * throws when calls of several downstream sessions are in flight and nothing tells them apart.
   */
  #askTarget(request: JsonRpcRequest, relatedTo: number | undefined): Pending | undefined {
    if (relatedTo !== undefined) return this.#pending.get(relatedTo);
    if (this.#options.transport.correlates) return undefined;
    const meta = request.params?._meta;
    const byToken = isObject(meta) ? this.#byToken(meta.progressToken) : undefined;
    if (byToken?.options.onRequest) return byToken;
    const callers = this.#callers();
    if (callers.length <= 1) return callers[0];
    const { server, transport } = this.#options;
    throw new McpError(
      ErrorCode.InvalidRequest,
      `Cannot relay '${request.method}' from upstream '${server}': calls of ${callers.length} ` +
        `clients are in flight and ${transport.kind} cannot tell which one asked; set ` +
        `'${OWN_UPSTREAM[transport.kind]}' on server '${server}' so that each client gets its ` +
        "own upstream",
    );
  }

  #serveInbound(request: JsonRpcRequest, relatedTo?: number): void {
    const controller = new AbortController();
    this.#inbound.set(request.id, controller);
    const answer = request.method === "ping"
      ? Promise.resolve({})
      : this.#ask(request, relatedTo, controller.signal);
    answer.then(
      (result) => ({ jsonrpc: "2.0" as const, id: request.id, result }),
      (error) => ({
        jsonrpc: "2.0" as const,
        id: request.id,
        error: error instanceof McpError
          ? error.toJson()
          : { code: ErrorCode.InternalError, message: "Internal error" },
      }),
    ).then((response) => {
      this.#inbound.delete(request.id);
      if (controller.signal.aborted || this.#closed) return;
      return this.#options.transport.send(response, AbortSignal.timeout(this.#options.timeoutMs));
    }).catch((error) =>
      this.#options.log.warn("could not answer an upstream request", {
        method: request.method,
        error,
      })
    );
  }

  /** Has the client of the call the request belongs to (or the shared handlers) answer it. */
  #ask(
    request: JsonRpcRequest,
    relatedTo: number | undefined,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    try {
      const handler = this.#askTarget(request, relatedTo)?.options.onRequest ??
        this.#options.handlers?.onRequest;
      if (handler) return handler(request, signal);
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: '${request.method}'`);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #onTransportClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const server = this.#options.server;
    this.#failAll(
      error instanceof GatewayError ? error : new GatewayError(
        "upstream_disconnected",
        server,
        `Upstream '${server}' disconnected${error ? `: ${describeError(error)}` : ""}`,
        error ? { cause: error } : undefined,
      ),
    );
    for (const controller of this.#inbound.values()) controller.abort();
    this.#options.handlers?.onClose?.(error);
  }

  #failAll(error: Error): void {
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
