/**
 * What the 2025 session endpoint does with one message: open a session (`initialize`), serve a
 * request through the core with what the session holds, take a client's answer to a relayed
 * request, and a client notification.
 */
import type { Identity } from "../http/auth.ts";
import type { CallContext } from "../core/dispatcher.ts";
import { GatewayError, McpError, toJsonRpcError } from "../mcp/errors.ts";
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
} from "./sessions.ts";

/** Opens a session (or refuses: shutting down, or every session of a full cap is busy). */
export function initialize(
  options: SessionEndpointOptions,
  message: JsonObject,
  accepts: Accepts,
  identity: Identity | undefined,
): Response {
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
  const full = options.sessions.makeRoom(identity?.name, options.caps);
  if (full !== undefined) return sessionsFull(full, identity, options.caps);
  const params = paramsOf(message) ?? {};
  const result = options.dispatcher.initialize(params);
  const session = options.sessions.create({
    protocolVersion: result.protocolVersion as string,
    clientCapabilities: keptCapabilities(params.capabilities),
    clientInfo: keptClientInfo(params.clientInfo),
    identity,
  });
  options.log.debug("session created", {
    session: session.id,
    client: identity?.name ?? null,
    client_software: session.clientInfo.name ?? null,
  });
  options.observer?.sessionCreated();
  options.observer?.message("initialize", true, 0);
  const json = JSON.stringify({ jsonrpc: "2.0", id: wireId(message.id), result });
  return reply(json, accepts, { "mcp-session-id": session.id });
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
  const wait = options.limitClient?.(client ?? session.id) ?? 0;
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

/** A client's answer to a request the gateway relayed to it. */
export function onResponse(session: Session, message: JsonObject): void {
  const asked = typeof message.id === "string" ? session.asked.get(message.id) : undefined;
  if (!asked) return;
  const error = message.error;
  if (isObject(error)) {
    asked.reject(
      new McpError(
        typeof error.code === "number" ? error.code : ErrorCode.InternalError,
        typeof error.message === "string" ? error.message : "Client error",
        error.data,
      ),
    );
  } else asked.resolve(isObject(message.result) ? message.result : {});
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
    if (isId(requestId)) session.inflight.get(requestId)?.abort();
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
