/**
 * What the 2025 session endpoint does with one message: open a session (`initialize`), serve a
 * request through the core with what the session holds, take a client's answer to a relayed
 * request, and a client notification.
 */
import type { Identity } from "../http/auth.ts";
import type { CallContext } from "../core/dispatcher.ts";
import { GatewayError, toJsonRpcError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject as isObject, type JsonObject } from "../mcp/jsonrpc.ts";
import {
  type Accepts,
  answerRequest,
  httpError,
  limited,
  reply,
  resultText,
  rpcErrorText,
} from "./answer.ts";
import { keptCapabilities, keptClientInfo } from "./client_declaration.ts";
import { isRequestKey as isId, wireId } from "./request_ids.ts";
import type { SessionEndpointOptions } from "./session_endpoint.ts";
import {
  askClient,
  type RequestKey,
  sendUnsolicited,
  type Session,
  type SessionCaps,
  settleAsked,
} from "./sessions.ts";

/** Opens a session (or refuses: shutting down, or every session of a full cap is busy). */
export function initialize(
  options: SessionEndpointOptions,
  message: JsonObject,
  accepts: Accepts,
  identity: Identity | undefined,
): Response | Promise<Response> {
  if (!options.accepting()) {
    return httpError(503, ErrorCode.InvalidRequest, "Service Unavailable: gateway shutting down");
  }
  if (!isId(message.id)) {
    return httpError(
      400,
      ErrorCode.InvalidRequest,
      "Invalid Request: initialize must be a request with an id",
    );
  }
  const params = paramsOf(message) ?? {};
  const result = options.dispatcher.initialize(params);
  const opened = options.sessions.open({
    protocolVersion: result.protocolVersion as string,
    clientCapabilities: keptCapabilities(params.capabilities),
    clientInfo: keptClientInfo(params.clientInfo),
    identity,
  }, options.caps);
  const answer = (session: Session | "client" | "gateway") =>
    typeof session === "string"
      ? sessionsFull(session, identity, options.caps)
      : sessionOpened(options, message, result, session, accepts, identity);
  return opened instanceof Promise ? opened.then(answer, storeRefusal) : answer(opened);
}

/** The answer to an initialize that opened `session`. */
function sessionOpened(
  options: SessionEndpointOptions,
  message: JsonObject,
  result: JsonObject,
  session: Session,
  accepts: Accepts,
  identity: Identity | undefined,
): Response {
  options.log.debug("session created", {
    session: session.id,
    client: identity?.name ?? null,
    client_software: session.clientInfo.name ?? null,
  });
  options.observer?.sessionCreated();
  options.observer?.message("initialize", true, 0);
  const json = JSON.stringify({ jsonrpc: "2.0", id: wireId(message.id as RequestKey), result });
  return reply(json, accepts, { "mcp-session-id": session.id });
}

/** The 503 answer when the cluster store cannot be reached for a session. */
export function storeRefusal(error: unknown): Response {
  return httpError(
    503,
    ErrorCode.InternalError,
    `Service Unavailable: ${error instanceof Error ? error.message : String(error)}; retry shortly`,
  );
}

/**
 * Serves one request of a session. `identity` is the request's own (its credentials were just
 * checked against the current config), so scopes narrowed by a reload apply to open sessions at
 * once.
 */
export function serveRequest(
  options: SessionEndpointOptions,
  session: Session,
  identity: Identity | undefined,
  message: JsonObject,
  accepts: Accepts,
): Response | Promise<Response> {
  const taken = options.limitClient?.(identity?.name ?? session.id) ?? 0;
  // A cluster's shared bucket answers from the store; a local one at once.
  return typeof taken === "number"
    ? serveAdmitted(options, session, identity, message, accepts, taken)
    : taken.then((wait) => serveAdmitted(options, session, identity, message, accepts, wait));
}

/** Serves a request once its client's rate limit said how long it must `wait` (0: not at all). */
function serveAdmitted(
  options: SessionEndpointOptions,
  session: Session,
  identity: Identity | undefined,
  message: JsonObject,
  accepts: Accepts,
  wait: number,
): Response | Promise<Response> {
  const { observer } = options;
  const key = message.id as RequestKey;
  const id = wireId(key);
  if (session.inflight.has(key)) {
    return reply(
      rpcErrorText(id, {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: id ${
          JSON.stringify(id)
        } is already used by a request in flight in this session`,
      }),
      accepts,
    );
  }
  const client = identity?.name;
  if (wait > 0) {
    observer?.message(message.method, false, 0, client);
    observer?.rateLimited(client ?? "anonymous");
    const error = new GatewayError(
      "rate_limited",
      "gateway",
      `Too many requests: ${
        client === undefined ? "this session" : `client '${client}'`
      } is over its rate limit (mcp.rate_limit); retry in ${wait} ms`,
      { retryAfterMs: wait },
    );
    return limited(rpcErrorText(id, toJsonRpcError(error)), wait, accepts);
  }
  session.used = true;
  const controller = new AbortController();
  session.inflight.set(key, controller);
  return answerRequest({
    id,
    accepts,
    bufferBytes: options.streamBufferBytes,
    elsewhere: (json) => sendUnsolicited(session, json),
    cancel: () => controller.abort(),
    cancelOnClose: false,
  }, async (send) => {
    const context: CallContext = {
      sessionId: session.id,
      protocolVersion: session.protocolVersion,
      clientCapabilities: session.clientCapabilities,
      identity,
      state: session,
      signal: controller.signal,
      notify: (notification) => send(JSON.stringify(notification)),
      ask: (request, signal) => askClient(session, request, signal, send),
    };
    const started = performance.now();
    try {
      const result = await options.dispatcher.handle(
        message.method as string,
        paramsOf(message),
        context,
      );
      observer?.message(message.method, true, (performance.now() - started) / 1000, client);
      return { body: resultText(id, result), status: 200 };
    } catch (error) {
      observer?.message(message.method, false, (performance.now() - started) / 1000, client);
      const rpcError = toJsonRpcError(error);
      if (rpcError.code === ErrorCode.InternalError) {
        options.log.error("request failed", { method: message.method, error });
      }
      return { body: rpcErrorText(id, rpcError), status: 200 };
    } finally {
      session.inflight.delete(key);
    }
  });
}

/** A client's answer to a request the gateway relayed to it (in a cluster, maybe by another replica). */
export function onResponse(
  options: SessionEndpointOptions,
  session: Session,
  message: JsonObject,
): void {
  if (!settleAsked(session, message)) options.sessions.answerElsewhere(session, message);
}

/** A client notification: a cancellation, or one the core handles. */
export function onNotification(
  options: SessionEndpointOptions,
  session: Session,
  message: JsonObject,
): void {
  const params = paramsOf(message);
  if (message.method === "notifications/cancelled") {
    const requestId = params?.requestId;
    if (!isId(requestId)) return;
    const call = session.inflight.get(requestId);
    if (call) call.abort();
    else options.sessions.cancelElsewhere(session, requestId);
    return;
  }
  options.dispatcher.notification(message.method as string, params, { sessionId: session.id });
}

/** The 429 answer when a session cap is full of sessions with calls in flight. */
function sessionsFull(
  cap: "client" | "gateway",
  identity: Identity | undefined,
  caps: SessionCaps,
): Response {
  const message = cap === "client"
    ? `Too Many Requests: all ${caps.perClient} sessions of client '${identity?.name}' have calls in flight (mcp.limits.max_sessions_per_client); retry when one ends`
    : `Too Many Requests: all ${caps.total} sessions the gateway holds have calls in flight (mcp.limits.max_sessions); retry when one ends`;
  return httpError(429, ErrorCode.InvalidRequest, message);
}

/** The error text of a batch entry that is not a valid request. */
export function invalidRequest(message: unknown, reason = "not a JSON-RPC 2.0 request"): string {
  const id = isObject(message) && isId(message.id) ? wireId(message.id) : null;
  return rpcErrorText(id, {
    code: ErrorCode.InvalidRequest,
    message: `Invalid Request: ${reason}`,
  });
}

/** The params of a message, when they are an object. */
export function paramsOf(message: JsonObject): JsonObject | undefined {
  return isObject(message.params) ? message.params : undefined;
}
