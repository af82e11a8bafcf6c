/**
 * What an upstream sends on its own, routed to the call it belongs to: the call whose stream
 * carried it (Streamable HTTP). On a transport that cannot tell (stdio, legacy SSE), a
 * server→client request goes to the call whose progress token its `_meta` carries, else to the
 * oldest call in flight when every call in flight serves one downstream session, else it is
 * refused (one client's request never reaches another); a log message goes once to each
 * downstream session with a call in flight, and to no idle session. Resource updates and list
 * changes always go to the shared handlers, which know the subscribers and refresh the lists.
 */
import { McpError } from "../mcp/errors.ts";
import {
  ErrorCode,
  isJsonObject,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import type { Logger } from "../log.ts";
import type { MessageTransport } from "./transport.ts";

/** Receives notifications and server→client requests from the upstream. */
export interface InboundHandlers {
  /** A notification not tied to a request of ours (or whose request has no handler). */
  onNotification?(notification: JsonRpcNotification): void;
  /** A server→client request; the returned result (or thrown McpError) is sent back upstream. */
  onRequest?(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject>;
  /** The transport closed while we did not ask it to. */
  onClose?(error: Error | undefined): void;
}

/** A call in flight, as routing sees it. */
export interface CallInFlight {
  /** The caller's own progress token, when it asked for progress. */
  progressToken?: string | number;
  options: {
    onNotification?(notification: JsonRpcNotification): void;
    onRequest?(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject>;
    /** The downstream session the call serves. */
    owner?: string | undefined;
  };
}

/** Options of {@link InboundRouter}. */
export interface InboundRouterOptions {
  server: string;
  transport: MessageTransport;
  handlers: InboundHandlers | undefined;
  log: Logger;
  /** The calls in flight, by our request id. */
  calls: ReadonlyMap<number, CallInFlight>;
  /** Sends an answer back upstream (false when the session is closed). */
  answer(response: JsonRpcMessage): Promise<void> | undefined;
}

/** Our progress tokens upstream: a string, so an upstream's own numeric token never matches one. */
export const TOKEN_PREFIX = "mcpstead-";

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

/** Routes one upstream session's notifications and requests. */
export class InboundRouter {
  readonly #options: InboundRouterOptions;
  readonly #serving = new Map<string | number, AbortController>();

  constructor(options: InboundRouterOptions) {
    this.#options = options;
  }

  /** Delivers a notification to its call, to every caller in flight, or to the shared handler. */
  notification(notification: JsonRpcNotification, relatedTo?: number): void {
    if (notification.method === "notifications/progress") {
      const call = this.#byToken(notification.params?.progressToken);
      if (call?.progressToken === undefined) return;
      call.options.onNotification?.({
        ...notification,
        params: { ...notification.params, progressToken: call.progressToken },
      });
      return;
    }
    if (notification.method === "notifications/cancelled") {
      const requestId = notification.params?.requestId;
      if (typeof requestId === "string" || typeof requestId === "number") {
        this.#serving.get(requestId)?.abort();
      }
      return;
    }
    const shared = this.#options.handlers?.onNotification;
    if (SHARED.has(notification.method)) return shared?.(notification);
    if (relatedTo !== undefined) {
      const related = this.#options.calls.get(relatedTo)?.options.onNotification;
      return related ? related(notification) : shared?.(notification);
    }
    const callers = notification.method === "notifications/message" &&
        !this.#options.transport.correlates
      ? this.#callers()
      : [];
    if (callers.length === 0) return shared?.(notification);
    for (const caller of callers) caller.options.onNotification?.(notification);
  }

  /** Has the client of the call a server→client request belongs to answer it, and answers upstream. */
  request(request: JsonRpcRequest, relatedTo?: number): void {
    const controller = new AbortController();
    this.#serving.set(request.id, controller);
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
      this.#serving.delete(request.id);
      if (controller.signal.aborted) return;
      return this.#options.answer(response);
    }).catch((error) =>
      this.#options.log.warn("could not answer an upstream request", {
        method: request.method,
        error,
      })
    );
  }

  /** Stops answering every request of the upstream (the session ended). */
  abortAll(): void {
    for (const controller of this.#serving.values()) controller.abort();
  }

  /** The call whose progress token (as we sent it upstream) is `token`. */
  #byToken(token: unknown): CallInFlight | undefined {
    if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) return undefined;
    const call = this.#options.calls.get(Number(token.slice(TOKEN_PREFIX.length)));
    return call?.progressToken === undefined ? undefined : call;
  }

  /**
   * The oldest call in flight of each downstream session (of each call, when it names no
   * owner); the gateway's own requests (listings, pings) relay nothing and do not count.
   */
  #callers(): CallInFlight[] {
    const oldest = new Map<unknown, CallInFlight>();
    for (const call of this.#options.calls.values()) {
      if (!call.options.onRequest && !call.options.onNotification) continue;
      const owner = call.options.owner ?? call;
      if (!oldest.has(owner)) oldest.set(owner, call);
    }
    return [...oldest.values()];
  }

  /**
   * The call a server→client request belongs to (undefined: none, the shared handlers answer);
   * throws when calls of several downstream sessions are in flight and nothing tells them apart.
   */
  #askTarget(request: JsonRpcRequest, relatedTo: number | undefined): CallInFlight | undefined {
    if (relatedTo !== undefined) return this.#options.calls.get(relatedTo);
    if (this.#options.transport.correlates) return undefined;
    const meta = request.params?._meta;
    const byToken = isJsonObject(meta) ? this.#byToken(meta.progressToken) : undefined;
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
}
