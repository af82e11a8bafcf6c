/**
 * Method dispatch for downstream requests. A request carries what it needs (protocol version,
 * client capabilities, session id, signal) in its context; session state is looked up beside
 * the request path, not woven through it.
 */
import { ErrorCode, type JsonObject, type JsonRpcNotification } from "../mcp/jsonrpc.ts";
import { invalidParams, McpError } from "../mcp/errors.ts";
import { negotiateVersion } from "../mcp/protocol.ts";
import { InvalidCursorError, paginate, type ToolCatalog } from "../upstream/catalog.ts";
import type { Supervisor } from "../upstream/supervisor.ts";

/** What a method handler gets besides its params. */
export interface CallContext {
  readonly sessionId: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: JsonObject;
  /** Aborted when the client cancels the request or the session ends. */
  readonly signal: AbortSignal;
  /** Sends a notification related to this request (on its own stream when it streams). */
  notify(notification: JsonRpcNotification): void;
  /**
   * Asks the client something on behalf of an upstream (sampling, elicitation, roots) on this
   * request's stream; rejects with an McpError when the client did not declare the capability.
   */
  ask(request: { method: string; params?: JsonObject }, signal: AbortSignal): Promise<JsonObject>;
}

/** The upstreams as dispatch sees them. */
export interface UpstreamDirectory {
  /** The current merged tool catalog. */
  catalog(): ToolCatalog;
  /** The supervisor of a server. */
  supervisor(server: string): Supervisor | undefined;
}

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  upstreams: UpstreamDirectory;
  serverInfo: { name: string; version: string };
  pageSize: number;
}

/** Answers downstream requests. */
export interface Dispatcher {
  /** The result of `initialize` for the given params. */
  initialize(params: JsonObject): JsonObject;
  /** Serves one request; rejects with McpError or GatewayError. */
  handle(method: string, params: JsonObject | undefined, context: CallContext): Promise<JsonObject>;
}

type MethodHandler = (
  params: JsonObject | undefined,
  context: CallContext,
) => Promise<JsonObject> | JsonObject;

/** Builds the dispatcher over a set of upstreams. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { upstreams, pageSize } = options;
  const methods: Record<string, MethodHandler> = {
    ping: () => ({}),
    "tools/list": (params) => {
      const page = pageOf(upstreams.catalog().tools, params?.cursor, pageSize);
      return page.nextCursor === undefined
        ? { tools: page.items }
        : { tools: page.items, nextCursor: page.nextCursor };
    },
    "tools/call": (params, context) => {
      const name = params?.name;
      if (typeof name !== "string") throw invalidParams("tools/call needs params.name (a string)");
      const route = upstreams.catalog().route(name);
      const supervisor = route && upstreams.supervisor(route.server);
      if (!route || !supervisor) throw invalidParams(`Unknown tool: '${name}'`);
      return supervisor.request("tools/call", { ...params, name: route.name }, {
        signal: context.signal,
        session: { id: context.sessionId, capabilities: context.clientCapabilities },
        onNotification: context.notify,
        onRequest: (request, signal) =>
          context.ask(
            request.params === undefined
              ? { method: request.method }
              : { method: request.method, params: request.params },
            signal,
          ),
      });
    },
  };
  return {
    initialize(params) {
      return {
        protocolVersion: negotiateVersion(params.protocolVersion),
        capabilities: { tools: { listChanged: true } },
        serverInfo: options.serverInfo,
      };
    },
    handle(method, params, context) {
      const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!handler) {
        return Promise.reject(
          new McpError(ErrorCode.MethodNotFound, `Method not found: '${method}'`),
        );
      }
      try {
        return Promise.resolve(handler(params, context));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

function pageOf<T>(items: readonly T[], cursor: unknown, size: number) {
  try {
    return paginate(items, cursor, size);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw invalidParams(error.message);
    throw error;
  }
}
