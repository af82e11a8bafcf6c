/**
 * The 2026-07-28 side of `/mcp` (spec 2026-07-28: transports/streamable-http): every POST is a
 * whole request with no session. The validation ladder answers 400 -32022 for a revision the
 * gateway does not serve, 400 -32020 for headers that do not mirror the body, and 404 -32601 for
 * methods this revision removed; then the request runs through the same dispatcher as a 2025
 * session's, with what a session held (capabilities, log level) read from its envelope. Results
 * carry `resultType` and the gateway's `serverInfo`; lists carry caching hints.
 */
import type { Identity } from "../http/auth.ts";
import type { Logger } from "../log.ts";
import { toJsonRpcError } from "../mcp/errors.ts";
import { type Envelope, META, withoutReservedKeys } from "../mcp/era.ts";
import { sourceWith } from "../mcp/result_source.ts";
import type { ListKind } from "../upstream/lists.ts";
import { modernLadder } from "../mcp/era_ladder.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { logLevelAllows } from "../mcp/log_levels.ts";
import type { FlowCaller, InputFlows } from "../core/input_flows.ts";
import {
  type Accepts,
  answerRequest,
  JSON_HEADERS,
  rpcErrorResponse,
  rpcErrorText,
  type WireId,
} from "./answer.ts";
import type { CallContext, Dispatcher } from "../core/dispatcher.ts";
import type { Listeners } from "./listen.ts";
import { wireId } from "./request_ids.ts";
import type { RequestKey } from "./sessions.ts";

/** Requests whose result may be `input_required` (spec 2026-07-28: patterns/mrtr). */
const MULTI_ROUND = new Map([["tools/call", "name"], ["prompts/get", "name"], [
  "resources/read",
  "uri",
]]);

/** The lists whose results carry the gateway's caching hints (spec 2026-07-28: utilities/caching). */
const LIST_KINDS = new Map<string, ListKind>([
  ["tools/list", "tools"],
  ["prompts/list", "prompts"],
  ["resources/list", "resources"],
  ["resources/templates/list", "templates"],
]);

/**
 * Errors that are HTTP failures, not in-band answers (spec 2026-07-28: a method the server does
 * not implement is 404; a missing client capability is 400).
 */
const STATUS_OF_ERROR = new Map<number, number>([
  [ErrorCode.MethodNotFound, 404],
  [ErrorCode.MissingRequiredClientCapability, 400],
]);

/** Who is asking: the identity (when auth is on) and the key flows and streams use (limits use the identity when there is one). */
export interface ModernCaller {
  identity: Identity | undefined;
  /** `identity:<name>`, or `address:<ip>` when auth is off. */
  principal: string;
}

/** Caching hints of a result. */
export interface CacheHints {
  ttlMs: number;
  cacheScope: "public" | "private";
}

/** Options of {@link createModernEndpoint}. */
export interface ModernEndpointOptions {
  dispatcher: Dispatcher;
  flows: InputFlows;
  listeners: Listeners;
  serverInfo: { name: string; version: string };
  /** Every revision the gateway serves, modern ones first (for -32022 and `server/discover`). */
  supportedVersions: readonly string[];
  /** The caching hints of a list or read as `identity` sees it. */
  cacheHints(identity: Identity | undefined, kind: ListKind | undefined): CacheHints;
  /** The input schema of an exposed tool (for `Mcp-Param-*` checks). */
  toolSchema(name: string): unknown;
  /** Takes a token of the caller's rate limit; the wait in ms when none is left. */
  limitClient?(key: string): number | Promise<number>;
  streamBufferBytes: number;
  keepAliveMs: number;
  log: Logger;
  /** A message was handled: its method, outcome, duration and client. */
  onMessage?(method: unknown, ok: boolean, seconds: number, client?: string): void;
  /** A request was refused by the client's rate limit. */
  onRateLimited?(client: string): void;
}

/** Serves one classified modern message. */
export type ModernEndpoint = (
  message: JsonObject,
  envelope: Envelope,
  req: Request,
  caller: ModernCaller,
  accepts: Accepts,
) => Promise<Response>;

/** Builds the modern request handler. */
export function createModernEndpoint(options: ModernEndpointOptions): ModernEndpoint {
  const { dispatcher } = options;
  const resultMeta = { [META.serverInfo]: options.serverInfo };
  /** What `decorate` adds to a result that has neither `_meta` nor `resultType`, as JSON text. */
  const addedMembers = `"_meta":${JSON.stringify(resultMeta)},"resultType":"complete"`;

  const discover = (identity: Identity | undefined): JsonObject => {
    const { protocolVersion: _, serverInfo: __, ...rest } = dispatcher.initialize({});
    return {
      ...rest,
      supportedVersions: [...options.supportedVersions],
      ...options.cacheHints(identity, undefined),
    };
  };

  const decorate = (method: string, result: JsonObject, identity: Identity | undefined) => {
    const meta = isJsonObject(result._meta) ? withoutReservedKeys(result._meta) : {};
    const out: JsonObject = { ...result, _meta: { ...meta, ...resultMeta } };
    out.resultType ??= "complete";
    if (out.resultType !== "complete") return out;
    const kind = LIST_KINDS.get(method);
    if (kind !== undefined) Object.assign(out, options.cacheHints(identity, kind));
    if (method === "resources/read") {
      Object.assign(out, readHints(out, options.cacheHints(identity, undefined)));
    }
    return out;
  };

  /**
   * The response text of a result: a result relayed as its upstream sent it (no `_meta` or
   * `resultType` of its own, no hints to add) is the upstream's text with the members
   * `decorate` would add.
   */
  const resultText = (
    method: string,
    id: WireId,
    result: JsonObject,
    identity: Identity | undefined,
  ): string => {
    if (
      result._meta === undefined && result.resultType === undefined &&
      !LIST_KINDS.has(method) && method !== "resources/read"
    ) {
      const source = sourceWith(result, addedMembers);
      if (source !== undefined) {
        return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${source}}`;
      }
    }
    return JSON.stringify({ jsonrpc: "2.0", id, result: decorate(method, result, identity) });
  };

  const run = (
    message: JsonObject,
    envelope: Envelope,
    caller: ModernCaller,
    send: (json: string) => void,
    signal: AbortSignal,
  ): Promise<JsonObject> => {
    const method = message.method as string;
    const params = isJsonObject(message.params) ? message.params : {};
    if (method === "server/discover") return Promise.resolve(discover(caller.identity));
    const context = (ask: CallContext["ask"], callSignal: AbortSignal): CallContext => ({
      sessionId: caller.principal,
      protocolVersion: envelope.protocolVersion,
      clientCapabilities: envelope.clientCapabilities,
      identity: caller.identity,
      state: { logLevel: envelope.logLevel, subscriptions: new Set() },
      signal: callSignal,
      notify: (notification) => {
        if (notification.method === "notifications/message") {
          if (envelope.logLevel === undefined) return;
          if (!logLevelAllows(envelope.logLevel, notification.params?.level)) return;
        }
        send(JSON.stringify(notification));
      },
      ask,
    });
    const field = MULTI_ROUND.get(method);
    if (field === undefined) {
      return dispatcher.handle(method, params, context(refuseAsk, signal));
    }
    const flowCaller: FlowCaller = {
      principal: caller.principal,
      method,
      target: String(params[field] ?? ""),
      capabilities: envelope.clientCapabilities,
    };
    const { requestState, inputResponses } = params;
    const rest = requestState === undefined && inputResponses === undefined
      ? params
      : withoutRoundKeys(params);
    if (dispatcher.upstreamEra(method, params) === "modern") {
      // A modern upstream's own input_required and requestState pass through untouched.
      return dispatcher.handle(method, params, context(refuseAsk, signal));
    }
    if (requestState !== undefined) {
      return options.flows.resume(requestState, inputResponses, flowCaller, signal);
    }
    return options.flows.start(
      flowCaller,
      (ask, flowSignal) => dispatcher.handle(method, rest, context(ask, flowSignal)),
      signal,
    );
  };

  return async (message, envelope, req, caller, accepts) => {
    const started = performance.now();
    const method = message.method as string;
    const id = message.id === undefined ? undefined : wireId(message.id as RequestKey);
    const client = caller.identity?.name;
    const refusal = modernLadder(message, envelope, req.headers, options);
    if (refusal) {
      options.onMessage?.(method, false, 0, client);
      return rpcErrorResponse(
        refusal.status,
        id ?? null,
        refusal.code,
        refusal.message,
        refusal.data,
      );
    }
    if (id === undefined) return new Response(null, { status: 202 });
    // The bucket of the identity is the one its sessions and REST calls draw on too.
    const taken = options.limitClient?.(client ?? caller.principal) ?? 0;
    const wait = typeof taken === "number" ? taken : await taken;
    if (wait > 0) {
      options.onMessage?.(method, false, 0, client);
      options.onRateLimited?.(client ?? "anonymous");
      return new Response(
        JSON.stringify({
          jsonrpc: "2.0",
          id,
          error: {
            code: ErrorCode.UpstreamError,
            message: `Too many requests: over the rate limit (mcp.rate_limit); retry in ${wait} ms`,
            data: { reason: "rate_limited", retry_after_ms: wait },
          },
        }),
        {
          status: 429,
          headers: { ...JSON_HEADERS, "retry-after": String(Math.max(1, Math.ceil(wait / 1000))) },
        },
      );
    }
    if (method === "subscriptions/listen") {
      // One context for the stream's lifetime: its subscriptions are those of a pseudo-session.
      let stream: CallContext | undefined;
      const contextOf = (key: string): CallContext =>
        stream ??= {
          sessionId: key,
          protocolVersion: envelope.protocolVersion,
          clientCapabilities: envelope.clientCapabilities,
          identity: caller.identity,
          state: { logLevel: undefined, subscriptions: new Set() },
          signal: new AbortController().signal,
          notify: () => {},
          ask: refuseAsk,
        };
      return await options.listeners.serve(id!, caller.principal, message.params, {
        offered: dispatcher.initialize({}).capabilities as JsonObject,
        keepAliveMs: options.keepAliveMs,
        bufferBytes: options.streamBufferBytes,
        resources: {
          subscribe: (key, uri) =>
            dispatcher.handle("resources/subscribe", { uri }, contextOf(key)).then(
              () => true,
              () => false,
            ),
          unsubscribe: (key, uri) =>
            dispatcher.handle("resources/unsubscribe", { uri }, contextOf(key)).then(() => {}),
        },
      });
    }
    const controller = new AbortController();
    return await answerRequest({
      id,
      accepts,
      bufferBytes: options.streamBufferBytes,
      elsewhere: () => {},
      cancel: () => controller.abort(),
      cancelOnClose: true,
    }, async (send) => {
      try {
        const result = await run(message, envelope, caller, send, controller.signal);
        options.onMessage?.(method, true, (performance.now() - started) / 1000, client);
        return { body: resultText(method, id, result, caller.identity), status: 200 };
      } catch (error) {
        options.onMessage?.(method, false, (performance.now() - started) / 1000, client);
        const rpcError = toJsonRpcError(error);
        if (rpcError.code === ErrorCode.InternalError) {
          options.log.error("request failed", { method, error });
        }
        const status = STATUS_OF_ERROR.get(rpcError.code) ?? 200;
        return { body: rpcErrorText(id, rpcError), status };
      }
    });
  };
}

/** A retry's params without the keys of the round it answers. */
function withoutRoundKeys(params: JsonObject): JsonObject {
  const { requestState: _, inputResponses: __, ...rest } = params;
  return rest;
}

/** The answer to a server→client request from a call that cannot ask (no flow). */
function refuseAsk(request: { method: string }): Promise<JsonObject> {
  return Promise.reject(
    new Error(
      `Cannot ask the client '${request.method}' outside tools/call, prompts/get or resources/read`,
    ),
  );
}

/**
 * The hints of a read: its upstream's own (none from a 2025 upstream: stale at once and private,
 * since the gateway cannot know), never fresher than the gateway's refresh, private whenever the
 * gateway's lists are.
 */
function readHints(result: JsonObject, gateway: CacheHints): CacheHints {
  const ttlMs = typeof result.ttlMs === "number" && result.ttlMs >= 0
    ? Math.min(result.ttlMs, gateway.ttlMs)
    : 0;
  const shared = result.cacheScope === "public" && gateway.cacheScope === "public";
  return { ttlMs, cacheScope: shared ? "public" : "private" };
}
