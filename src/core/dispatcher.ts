/**
 * The era-neutral core: every method a client may call, whichever endpoint it came in by, routed
 * to the upstream that owns the name or URI, within the caller's scopes, with names mapped back
 * and forth (catalog.ts). The endpoints are thin adapters around it: the 2025 session endpoint,
 * the 2026-07-28 per-request endpoint, the REST facade and meta-tool mode.
 */
import type { Identity } from "../http/auth.ts";
import { invalidParams, McpError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { isLogLevel, LOG_LEVELS, mostVerbose } from "../mcp/log_levels.ts";
import { negotiateVersion } from "../mcp/protocol.ts";
import { callMethods, type ToolCallObserver } from "./calls.ts";
import type { CallContext, MethodHandler, UpstreamDirectory } from "./context.ts";
import { forward } from "./forward.ts";
import { listMethods } from "./lists.ts";
import { resourceMethods } from "./resources.ts";
import { Routes } from "./routes.ts";
import { mayUseServer, scopeOf } from "./scopes.ts";
import type { Subscriptions } from "./subscriptions.ts";

export type { CallContext, SessionState, UpstreamDirectory } from "./context.ts";

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  upstreams: UpstreamDirectory;
  subscriptions: Subscriptions;
  serverInfo: { name: string; version: string };
  pageSize: number;
  /** The log levels live sessions asked for (a shared upstream gets the most verbose). */
  sessionLogLevels(): Iterable<string>;
  /** Receives every routed tool call: its outcome (`ok` or a failure reason) and duration. */
  onToolCall?: ToolCallObserver;
}

/** A server as a caller may see it (meta-tool mode lists them). */
export interface ServerView {
  name: string;
  connected: boolean;
  transport: string | null;
  /** The tools of the server the caller may call. */
  tools: number;
}

/** Answers client requests. */
export interface Dispatcher {
  /** The result of `initialize` for the given params. */
  initialize(params: JsonObject): JsonObject;
  /** Serves one request; rejects with McpError or GatewayError. */
  handle(method: string, params: JsonObject | undefined, context: CallContext): Promise<JsonObject>;
  /** The tools `identity` may see and call. */
  tools(identity: Identity | undefined): readonly JsonObject[];
  /** Whether `identity` may call the tool of exposed name `name`, and it exists. */
  mayCall(name: string, identity: Identity | undefined): boolean;
  /** The server of an exposed tool name. */
  serverOf(name: string): string | undefined;
  /** The servers `identity` may use something of. */
  servers(identity: Identity | undefined): ServerView[];
  /**
   * The era of the upstream a `tools/call`, `prompts/get` or `resources/read` goes to (a
   * 2026-07-28 client's retry carries that upstream's own requestState when it is modern).
   */
  upstreamEra(method: string, params: JsonObject): "legacy" | "modern" | undefined;
  /** Handles a client notification other than cancellation. */
  notification(
    method: string,
    params: JsonObject | undefined,
    context: Pick<CallContext, "sessionId">,
  ): void;
}

/** Builds the core over a set of upstreams. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { upstreams } = options;
  const routes = new Routes(upstreams);
  const methods: Record<string, MethodHandler> = {
    ping: () => ({}),
    ...listMethods(routes, options.pageSize),
    ...callMethods(upstreams, routes, options.onToolCall),
    ...resourceMethods(upstreams, routes, options.subscriptions),
    "logging/setLevel": (params, context) => setLevel(upstreams, params, context, options),
  };
  return {
    initialize: (params) => ({
      protocolVersion: negotiateVersion(params.protocolVersion),
      capabilities: capabilities(upstreams, routes),
      serverInfo: options.serverInfo,
    }),
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
    tools: (identity) => routes.visible("tools", "name", routes.catalog.tools, identity),
    mayCall: (name, identity) => routes.allowed("tools", name, identity) !== undefined,
    serverOf: (name) => routes.catalog.tool(name)?.server,
    servers: (identity) => serverViews(upstreams, identity),
    upstreamEra: (method, params) => routes.upstreamEra(method, params),
    notification(method, params, context) {
      if (method !== "notifications/roots/list_changed") return;
      for (const supervisor of upstreams.supervisors()) {
        supervisor.notify(method, params, context.sessionId).catch(() => {});
      }
    },
  };
}

/** What the gateway serves: the union of what its upstreams offer, with list changes announced. */
function capabilities(upstreams: UpstreamDirectory, routes: Routes): JsonObject {
  const out: JsonObject = { tools: { listChanged: true }, logging: {} };
  if (routes.offered("prompts")) out.prompts = { listChanged: true };
  if (routes.offered("resources")) {
    const subscribe = upstreams.supervisors().some((s) =>
      isJsonObject(s.capabilities.resources) && s.capabilities.resources.subscribe === true
    );
    out.resources = subscribe ? { subscribe: true, listChanged: true } : { listChanged: true };
  }
  if (routes.offered("completions")) out.completions = {};
  return out;
}

/**
 * `logging/setLevel`: the session's own level, and the most verbose level any session asked for
 * on shared upstreams (a per-session instance gets its session's). A 2026-07-28 upstream takes
 * the level with each request instead.
 */
async function setLevel(
  upstreams: UpstreamDirectory,
  params: JsonObject | undefined,
  context: CallContext,
  options: DispatcherOptions,
): Promise<JsonObject> {
  const level = params?.level;
  if (!isLogLevel(level)) {
    throw invalidParams(
      `Invalid log level: ${JSON.stringify(level)} (one of ${LOG_LEVELS.join(", ")})`,
    );
  }
  context.state.logLevel = level;
  const shared = mostVerbose(options.sessionLogLevels()) ?? level;
  const targets = upstreams.supervisors().filter((s) =>
    s.capabilities.logging !== undefined && s.client && s.client.era !== "modern"
  );
  await Promise.all(
    targets.map((s) =>
      forward(upstreams, { server: s.name, name: "" }, "logging/setLevel", {
        level: s.perSession ? level : shared,
      }, context).catch(() => {})
    ),
  );
  return {};
}

/** The servers `identity` may use something of, with the count of tools it may call. */
function serverViews(upstreams: UpstreamDirectory, identity: Identity | undefined): ServerView[] {
  const catalog = upstreams.catalog();
  const scope = scopeOf(identity);
  return upstreams.supervisors().filter((s) => mayUseServer(catalog, identity, s.name)).map((s) => {
    const status = s.status();
    const tools = catalog.itemsOf(s.name).tools;
    return {
      name: s.name,
      connected: status.connected,
      transport: status.transport ?? null,
      tools: scope ? tools.filter(scope.tools).length : tools.length,
    };
  });
}
