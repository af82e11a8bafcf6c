/**
 * Method dispatch for downstream requests. A request carries what it needs (protocol version,
 * client capabilities, session state, signal) in its context; session state is looked up beside
 * the request path, not woven through it. Everything an upstream serves is forwarded to the
 * upstream that owns the name or URI, with names mapped back and forth (catalog.ts).
 */
import {
  ErrorCode,
  isJsonObject,
  type JsonObject,
  type JsonRpcNotification,
} from "../mcp/jsonrpc.ts";
import { GatewayError, invalidParams, McpError } from "../mcp/errors.ts";
import { globMatcher } from "../mcp/glob.ts";
import { negotiateVersion } from "../mcp/protocol.ts";
import { isModernVersion, withoutReservedMeta } from "../mcp/era.ts";
import { fulfilForLegacy } from "../core/input_fulfil.ts";
import { type Catalog, InvalidCursorError, paginate, type Route } from "../upstream/catalog.ts";
import { callMetaTool, isMetaTool, META_TOOLS, type MetaSources } from "./meta_tools.ts";
import { ToolIndex } from "./search.ts";
import type { Supervisor, UpstreamRequestOptions } from "../upstream/supervisor.ts";
import type { Identity } from "../http/auth.ts";
import { isLogLevel, logLevelAllows } from "../mcp/log_levels.ts";
import type { Subscriptions } from "./subscriptions.ts";
import { mayUseServer, scopeOf } from "./scopes.ts";
import { exposePromptResult, exposeReadResult, exposeToolResult } from "./result_uris.ts";

/** What a session keeps between requests that dispatch reads or changes. */
export interface SessionState {
  /** The minimum level the client asked for with logging/setLevel. */
  logLevel: string | undefined;
  /** Exposed resource URIs the client subscribed to. */
  readonly subscriptions: Set<string>;
}

/** What a method handler gets besides its params. */
export interface CallContext {
  readonly sessionId: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: JsonObject;
  /** Who is asking, with their scopes (when auth is on). */
  readonly identity: Identity | undefined;
  readonly state: SessionState;
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
  /** The current merged catalog. */
  catalog(): Catalog;
  /** Every supervisor, in config order. */
  supervisors(): readonly Supervisor[];
  /** The supervisor of a server. */
  supervisor(server: string): Supervisor | undefined;
}

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  upstreams: UpstreamDirectory;
  subscriptions: Subscriptions;
  serverInfo: { name: string; version: string };
  pageSize: number;
  /** The log levels live sessions asked for (a shared upstream gets the most verbose). */
  sessionLogLevels(): Iterable<string>;
  /** `direct` lists every tool; `meta` lists the gateway tools (and pinned ones); `both` lists all. */
  toolsMode: "direct" | "meta" | "both";
  /** Globs of tools listed directly beside the gateway tools in meta mode. */
  pinned: readonly string[];
  /** Receives every routed tool call: its outcome (`ok` or a failure reason) and duration. */
  onToolCall?(server: string, tool: string, outcome: string, seconds: number): void;
}

/** Answers downstream requests. */
export interface Dispatcher {
  /** The result of `initialize` for the given params. */
  initialize(params: JsonObject): JsonObject;
  /** Serves one request; rejects with McpError or GatewayError. */
  handle(method: string, params: JsonObject | undefined, context: CallContext): Promise<JsonObject>;
  /** The tools `identity` may see and call, whatever the tools mode lists. */
  tools(identity: Identity | undefined): readonly JsonObject[];
  /** Whether `identity` may call the tool of exposed name `name`, and it exists. */
  mayCall(name: string, identity: Identity | undefined): boolean;
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

type MethodHandler = (
  params: JsonObject | undefined,
  context: CallContext,
) => Promise<JsonObject> | JsonObject;

const LEVEL_ORDER = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** Builds the dispatcher over a set of upstreams. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { upstreams, pageSize, subscriptions } = options;
  const catalog = () => upstreams.catalog();

  /** Whether any upstream declared a server capability. */
  const offered = (capability: string) =>
    upstreams.supervisors().some((s) => s.capabilities[capability] !== undefined);

  const requireOffered = (capability: string, method: string) => {
    if (!offered(capability)) {
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: '${method}'`);
    }
  };

  /** Sends a request to the upstream that owns `route`, relaying what it says meanwhile. */
  const forward = async (
    route: Route,
    method: string,
    params: JsonObject,
    context: CallContext,
    idempotent = false,
    toolSchema?: unknown,
  ): Promise<JsonObject> => {
    const supervisor = upstreams.supervisor(route.server);
    if (!supervisor) throw invalidParams(`Unknown server: '${route.server}'`);
    // The gateway owns the reserved _meta keys on every hop (a client's envelope is not the upstream's).
    const sent = withoutReservedMeta(params);
    const options: UpstreamRequestOptions = {
      signal: context.signal,
      session: { id: context.sessionId, capabilities: context.clientCapabilities },
      owner: context.sessionId,
      idempotent,
      clientCapabilities: context.clientCapabilities,
      logLevel: context.state.logLevel,
      ...(toolSchema === undefined ? {} : { toolSchema }),
      onNotification: (notification) => {
        if (
          notification.method === "notifications/message" &&
          !logLevelAllows(context.state.logLevel, notification.params?.level)
        ) return;
        context.notify(notification);
      },
      onRequest: (request, signal) =>
        context.ask(
          request.params === undefined
            ? { method: request.method }
            : { method: request.method, params: request.params },
          signal,
        ),
    };
    const result = await supervisor.request(method, sent, options);
    if (result.resultType === undefined || isModernVersion(context.protocolVersion)) return result;
    return await fulfilForLegacy(
      result,
      (extra) => supervisor.request(method, { ...sent, ...extra }, options),
      context.ask,
      context.signal,
    );
  };

  const list = (
    key: string,
    items: readonly JsonObject[],
    params: JsonObject | undefined,
  ): JsonObject => {
    let page;
    try {
      page = paginate(items, params?.cursor, pageSize);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw invalidParams(error.message);
      throw error;
    }
    return page.nextCursor === undefined
      ? { [key]: page.items }
      : { [key]: page.items, nextCursor: page.nextCursor };
  };

  /**
   * The route of a resource the client may read, and its exposed URI: the scope is checked on
   * the exposed form, however the client wrote the URI (an upstream's own URI finds its server).
   */
  const resourceRoute = (uri: unknown, context: CallContext) => {
    if (typeof uri !== "string") throw invalidParams("params.uri (a string) is required");
    const route = catalog().resource(uri);
    if (route) {
      const exposed = catalog().exposeUri(route.server, route.name);
      if (scopeOf(context.identity)?.resources(exposed) !== false) return { route, exposed };
    }
    throw new McpError(ErrorCode.ResourceNotFound, `Resource not found: '${uri}'`, { uri });
  };

  /** The route of a tool or prompt the client may use; anything else looks like an unknown name. */
  const allowed = (
    kind: "tools" | "prompts",
    name: string,
    identity: Identity | undefined,
  ): Route | undefined => {
    if (scopeOf(identity)?.[kind](name) === false) return undefined;
    return kind === "tools" ? catalog().tool(name) : catalog().prompt(name);
  };

  /** A list as one client may see it. */
  const visible = (
    kind: "tools" | "prompts" | "resources",
    key: "name" | "uri" | "uriTemplate",
    items: readonly JsonObject[],
    identity: Identity | undefined,
  ) => {
    const scope = scopeOf(identity);
    return scope ? items.filter((item) => scope[kind](item[key] as string)) : items;
  };

  /** Routes a tool call to its upstream, recording its outcome. */
  const callTool = (
    name: string,
    params: JsonObject,
    context: CallContext,
  ): Promise<JsonObject> => {
    const route = allowed("tools", name, context.identity);
    if (!route) {
      options.onToolCall?.("unknown", "unknown", "unknown_tool", 0);
      return Promise.reject(invalidParams(`Unknown tool: '${name}'`));
    }
    const started = performance.now();
    const done = (outcome: string) =>
      options.onToolCall?.(route.server, name, outcome, (performance.now() - started) / 1000);
    const annotations = catalog().toolInfo(name)?.annotations;
    const idempotent = isJsonObject(annotations) && annotations.idempotentHint === true;
    const schema = catalog().toolInfo(name)?.inputSchema;
    return forward(
      route,
      "tools/call",
      { ...params, name: route.name },
      context,
      idempotent,
      schema,
    ).then(
      (result) => {
        done(result.isError === true ? "upstream_returned_error" : "ok");
        return exposeToolResult(
          result,
          catalog(),
          route.server,
          scopeOf(context.identity)?.resources,
        );
      },
      (error) => {
        done(
          error instanceof GatewayError
            ? error.code
            : error instanceof McpError
            ? "upstream_error"
            : "internal",
        );
        throw error;
      },
    );
  };

  const meta = options.toolsMode !== "direct";
  const pinned = globMatcher(options.pinned);
  const indexes = new WeakMap<Catalog, ToolIndex>();
  const metaSources = (context: CallContext): MetaSources => ({
    tools: () => visible("tools", "name", catalog().tools, context.identity),
    index: () => {
      const current = catalog();
      let index = indexes.get(current);
      if (!index) indexes.set(current, index = new ToolIndex(current.tools));
      return index;
    },
    serverOf: (name) => catalog().tool(name)?.server,
    servers: () => {
      const current = catalog();
      const scope = scopeOf(context.identity);
      return upstreams.supervisors().filter((s) => mayUseServer(current, context.identity, s.name))
        .map((s) => {
          const status = s.status();
          const tools = current.itemsOf(s.name).tools;
          return {
            name: s.name,
            connected: status.connected,
            transport: status.transport ?? null,
            tools: scope ? tools.filter(scope.tools).length : tools.length,
          };
        });
    },
    call: (name, args) => callTool(name, { name, arguments: args }, context),
    allowed: (name) => allowed("tools", name, context.identity) !== undefined,
  });

  const methods: Record<string, MethodHandler> = {
    ping: () => ({}),
    "tools/list": (params, context) => {
      const tools = visible("tools", "name", catalog().tools, context.identity);
      if (!meta) return list("tools", tools, params);
      const shown = options.toolsMode === "both"
        ? tools
        : tools.filter((tool) => pinned(tool.name as string));
      return list("tools", [...META_TOOLS, ...shown], params);
    },
    "tools/call": (params, context) => {
      const name = params?.name;
      if (typeof name !== "string") throw invalidParams("tools/call needs params.name (a string)");
      if (meta && isMetaTool(name)) {
        return callMetaTool(
          name,
          isJsonObject(params?.arguments) ? params.arguments : {},
          metaSources(context),
        );
      }
      return callTool(name, params!, context);
    },
    "prompts/list": (params, context) => {
      requireOffered("prompts", "prompts/list");
      return list(
        "prompts",
        visible("prompts", "name", catalog().prompts, context.identity),
        params,
      );
    },
    "prompts/get": async (params, context) => {
      const name = params?.name;
      if (typeof name !== "string") throw invalidParams("prompts/get needs params.name (a string)");
      const route = allowed("prompts", name, context.identity);
      if (!route) throw invalidParams(`Unknown prompt: '${name}'`);
      const result = await forward(route, "prompts/get", { ...params, name: route.name }, context);
      return exposePromptResult(
        result,
        catalog(),
        route.server,
        scopeOf(context.identity)?.resources,
      );
    },
    "resources/list": (params, context) => {
      requireOffered("resources", "resources/list");
      return list(
        "resources",
        visible("resources", "uri", catalog().resources, context.identity),
        params,
      );
    },
    "resources/templates/list": (params, context) => {
      requireOffered("resources", "resources/templates/list");
      return list(
        "resourceTemplates",
        visible("resources", "uriTemplate", catalog().templates, context.identity),
        params,
      );
    },
    "resources/read": async (params, context) => {
      const { route } = resourceRoute(params?.uri, context);
      const result = await forward(
        route,
        "resources/read",
        { ...params, uri: route.name },
        context,
      );
      return exposeReadResult(
        result,
        catalog(),
        route.server,
        scopeOf(context.identity)?.resources,
      );
    },
    "resources/subscribe": async (params, context) => {
      const { route, exposed } = resourceRoute(params?.uri, context);
      if (context.state.subscriptions.has(exposed)) return {};
      const first = subscriptions.add(
        route,
        context.sessionId,
        upstreams.supervisor(route.server)?.perSession ?? false,
      );
      if (first) {
        await forward(route, "resources/subscribe", { ...params, uri: route.name }, context);
      }
      context.state.subscriptions.add(exposed);
      return {};
    },
    "resources/unsubscribe": async (params, context) => {
      const { route, exposed } = resourceRoute(params?.uri, context);
      if (!context.state.subscriptions.delete(exposed)) return {};
      const last = subscriptions.remove(
        route,
        context.sessionId,
        upstreams.supervisor(route.server)?.perSession ?? false,
      );
      if (last) {
        await forward(route, "resources/unsubscribe", { ...params, uri: route.name }, context);
      }
      return {};
    },
    "completion/complete": (params, context) => {
      const ref = params?.ref;
      if (!isJsonObject(ref)) throw invalidParams("completion/complete needs params.ref");
      if (ref.type === "ref/prompt" && typeof ref.name === "string") {
        const route = allowed("prompts", ref.name, context.identity);
        if (!route) throw invalidParams(`Unknown prompt: '${ref.name}'`);
        return forward(route, "completion/complete", {
          ...params,
          ref: { ...ref, name: route.name },
        }, context);
      }
      if (ref.type === "ref/resource" && typeof ref.uri === "string") {
        const { route } = resourceRoute(ref.uri, context);
        return forward(route, "completion/complete", {
          ...params,
          ref: { ...ref, uri: route.name },
        }, context);
      }
      throw invalidParams(
        "params.ref must be a ref/prompt with a name or a ref/resource with a uri",
      );
    },
    "logging/setLevel": async (params, context) => {
      const level = params?.level;
      if (!isLogLevel(level)) {
        throw invalidParams(
          `Invalid log level: ${JSON.stringify(level)} (one of ${LEVEL_ORDER.join(", ")})`,
        );
      }
      context.state.logLevel = level;
      const shared = mostVerbose(options.sessionLogLevels()) ?? level;
      await Promise.all(
        // A 2026-07-28 upstream takes the level with each request instead.
        upstreams.supervisors().filter((s) =>
          s.capabilities.logging !== undefined && s.client && s.client.era !== "modern"
        ).map(
          (s) =>
            forward({ server: s.name, name: "" }, "logging/setLevel", {
              level: s.perSession ? level : shared,
            }, context)
              .catch(() => {}),
        ),
      );
      return {};
    },
  };

  return {
    tools: (identity) => visible("tools", "name", catalog().tools, identity),
    mayCall: (name, identity) => allowed("tools", name, identity) !== undefined,
    upstreamEra(method, params) {
      const current = catalog();
      const route = method === "tools/call" && typeof params.name === "string"
        ? current.tool(params.name)
        : method === "prompts/get" && typeof params.name === "string"
        ? current.prompt(params.name)
        : method === "resources/read" && typeof params.uri === "string"
        ? current.resource(params.uri)
        : undefined;
      return route === undefined ? undefined : upstreams.supervisor(route.server)?.client?.era;
    },
    initialize(params) {
      const capabilities: JsonObject = { tools: { listChanged: true }, logging: {} };
      if (offered("prompts")) capabilities.prompts = { listChanged: true };
      if (offered("resources")) {
        const subscribe = upstreams.supervisors().some((s) =>
          isJsonObject(s.capabilities.resources) && s.capabilities.resources.subscribe === true
        );
        capabilities.resources = subscribe
          ? { subscribe: true, listChanged: true }
          : { listChanged: true };
      }
      if (offered("completions")) capabilities.completions = {};
      return {
        protocolVersion: negotiateVersion(params.protocolVersion),
        capabilities,
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
    notification(method, params, context) {
      if (method !== "notifications/roots/list_changed") return;
      for (const supervisor of upstreams.supervisors()) {
        supervisor.notify(method, params, context.sessionId).catch(() => {});
      }
    },
  };
}

function mostVerbose(levels: Iterable<string>): string | undefined {
  let best: number | undefined;
  for (const level of levels) {
    const rank = LEVEL_ORDER.indexOf(level);
    if (rank !== -1 && (best === undefined || rank < best)) best = rank;
  }
  return best === undefined ? undefined : LEVEL_ORDER[best];
}
