/**
 * The downstream `/mcp` endpoint (MCP 2025-11-25 Streamable HTTP transport): POST carries one
 * message (or a batch from a 2025-03-26 session), GET opens the session's server→client stream,
 * DELETE ends the session. A request is answered with JSON unless something must be streamed
 * before its result (progress, log messages) or the client accepts only SSE.
 */
import { admit, readJsonBody } from "../http/admission.ts";
import type { Authenticator, AuthResult, Identity } from "../http/auth.ts";
import type { OriginGuard } from "../http/origin.ts";
import type { Handler } from "../http/router.ts";
import { GatewayError, McpError, toJsonRpcError } from "../mcp/errors.ts";
import {
  ErrorCode,
  isJsonObject as isObject,
  type Json,
  type JsonObject,
  type JsonRpcErrorObject,
} from "../mcp/jsonrpc.ts";
import { allowsBatches, isSupportedVersion } from "../mcp/protocol.ts";
import { classify, isModernVersion } from "../mcp/era.ts";
import type { ModernEndpoint } from "./modern_endpoint.ts";
import type { Logger } from "../log.ts";
import type { CallContext, Dispatcher } from "../core/dispatcher.ts";
import {
  askClient,
  attachStream,
  type RequestKey,
  sendUnsolicited,
  type Session,
  type SessionCaps,
  type SessionStore,
} from "./sessions.ts";
import { keptCapabilities, keptClientInfo } from "./client_declaration.ts";
import { hasInexactId, isRequestKey as isId, parseExactIds, wireId } from "./request_ids.ts";
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";

/** Options of {@link createMcpEndpoint}. */
export interface EndpointOptions {
  sessions: SessionStore;
  dispatcher: Dispatcher;
  guard: OriginGuard;
  /** Present when downstream auth is on. */
  authenticate: Authenticator | undefined;
  maxBodyBytes: number;
  /** Most sessions one identity may hold (0: no limit). */
  maxSessionsPerClient: number;
  /** Most sessions in all, whatever the auth mode. */
  maxSessions: number;
  /** Largest `initialize` body (a request without a session id is read under this cap). */
  maxInitializeBytes: number;
  /** Takes a token of a client's (or anonymous session's) rate limit; the wait in ms when none is left. */
  limitClient?(key: string): number;
  /** Limits on what clients send and how fast they read. */
  limits: {
    maxJsonDepth: number;
    maxJsonValues: number;
    maxHeaderBytes: number;
    bodyTimeoutMs: number;
    /** Bytes an SSE stream may hold for a client that does not read; beyond that it is closed. */
    streamBufferBytes: number;
  };
  maxBatchSize: number;
  keepAliveMs: number;
  log: Logger;
  /** False once shutdown began: new sessions get 503. */
  accepting(): boolean;
  /** Receives what the endpoint does, for metrics. */
  observer?: EndpointObserver;
  /** Serves requests of 2026-07-28 clients (no session). */
  modern?: ModernEndpoint;
}

/** Receives what the endpoint does, for metrics. */
export interface EndpointObserver {
  /** A message was handled: its method (or `invalid`, `listen`, `terminate`), outcome, duration and client. */
  message(method: unknown, ok: boolean, seconds: number, client?: string): void;
  /** A client's request was refused by its rate limit. */
  rateLimited(client: string): void;
  /** A bearer check happened. */
  auth(result: AuthResult): void;
  /** A session was created. */
  sessionCreated(): void;
}

/** The three handlers of `/mcp`. */
export interface McpEndpoint {
  post: Handler;
  get: Handler;
  delete: Handler;
}

interface Accepts {
  json: boolean;
  sse: boolean;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Builds the `/mcp` handlers. */
export function createMcpEndpoint(options: EndpointOptions): McpEndpoint {
  const { sessions, dispatcher, log, observer } = options;

  const admission = {
    guard: options.guard,
    authenticate: options.authenticate,
    maxHeaderBytes: options.limits.maxHeaderBytes,
    onAuth: (result: AuthResult) => observer?.auth(result),
  };
  const bodyLimits = {
    maxBodyBytes: options.maxBodyBytes,
    bodyTimeoutMs: options.limits.bodyTimeoutMs,
    maxJsonDepth: options.limits.maxJsonDepth,
    maxJsonValues: options.limits.maxJsonValues,
  };
  const initializeLimits = {
    ...bodyLimits,
    maxBodyBytes: Math.min(options.maxBodyBytes, options.maxInitializeBytes),
  };
  const sessionCaps = { perClient: options.maxSessionsPerClient, total: options.maxSessions };

  /** The request's session; a session is bound to the identity that opened it (spec: security). */
  const lookup = (req: Request, identity: Identity | undefined): Session | Response => {
    const id = sessionIdOf(req);
    if (id instanceof Response) return id;
    const session = sessions.touch(id);
    if (!session || session.identity?.name !== identity?.name) {
      return httpError(404, -32001, "Session not found");
    }
    const version = req.headers.get("mcp-protocol-version");
    if (version !== null && !isSupportedVersion(version)) {
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        `Bad Request: Unsupported protocol version '${version}'`,
      );
    }
    return session;
  };

  /**
   * Serves one request. `identity` is the request's own (its credentials were just checked
   * against the current config), so scopes narrowed by a reload apply to open sessions at once.
   */
  const serveRequest = async (
    session: Session,
    identity: Identity | undefined,
    message: JsonObject,
    accepts: Accepts,
  ): Promise<Response> => {
    const key = message.id as RequestKey;
    const id = wireId(key);
    if (session.inflight.has(key)) {
      return reply(
        JSON.stringify({
          jsonrpc: "2.0",
          id,
          error: {
            code: ErrorCode.InvalidRequest,
            message: `Invalid Request: id ${
              JSON.stringify(id)
            } is already used by a request in flight in this session`,
          },
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
      return limited(
        JSON.stringify({ jsonrpc: "2.0", id, error: toJsonRpcError(error) }),
        wait,
        accepts,
      );
    }
    session.used = true;
    const controller = new AbortController();
    session.inflight.set(key, controller);
    const live: { channel?: SseChannel } = {};
    const early: string[] = [];
    const streamNeeded = Promise.withResolvers<"stream">();
    const send = (json: string) => {
      if (live.channel) live.channel.send(json);
      else if (accepts.sse) {
        early.push(json);
        streamNeeded.resolve("stream");
      } else sendUnsolicited(session, json);
    };
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
    const done = dispatcher.handle(message.method as string, paramsOf(message), context).then(
      (result) => {
        observer?.message(message.method, true, (performance.now() - started) / 1000, client);
        return JSON.stringify({ jsonrpc: "2.0", id, result });
      },
      (error) => {
        observer?.message(message.method, false, (performance.now() - started) / 1000, client);
        const rpcError = toJsonRpcError(error);
        if (rpcError.code === ErrorCode.InternalError) {
          log.error("request failed", { method: message.method, error });
        }
        return JSON.stringify({ jsonrpc: "2.0", id, error: rpcError });
      },
    ).finally(() => session.inflight.delete(key));
    if (accepts.json) {
      const first = accepts.sse ? await Promise.race([done, streamNeeded.promise]) : await done;
      if (first !== "stream") return new Response(first, { headers: JSON_HEADERS });
    }
    const bufferBytes = options.limits.streamBufferBytes;
    const channel = live.channel = new SseChannel({
      bufferBytes,
      // The answer cannot follow what the client left unread: end the stream with an error it
      // can read instead of the answer, and stop the call.
      onOverflow: () => {
        channel.sendLast(JSON.stringify({ jsonrpc: "2.0", id, error: tooSlow(bufferBytes) }));
        controller.abort();
      },
    });
    for (const json of early) channel.send(json);
    done.then((json) => channel.sendLast(json));
    return new Response(channel.body, { headers: SSE_HEADERS });
  };

  const onResponse = (session: Session, message: JsonObject): void => {
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
  };

  const onNotification = (session: Session, message: JsonObject): void => {
    const params = paramsOf(message);
    if (message.method === "notifications/cancelled") {
      const requestId = params?.requestId;
      if (isId(requestId)) {
        session.inflight.get(requestId)?.abort();
      }
      return;
    }
    dispatcher.notification(message.method as string, params, { sessionId: session.id });
  };

  const initialize = (
    message: JsonObject,
    accepts: Accepts,
    identity: Identity | undefined,
  ): Response => {
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
    const full = sessions.makeRoom(identity?.name, sessionCaps);
    if (full !== undefined) return sessionsFull(full, identity, sessionCaps);
    const params = paramsOf(message) ?? {};
    const result = dispatcher.initialize(params);
    const session = sessions.create({
      protocolVersion: result.protocolVersion as string,
      clientCapabilities: keptCapabilities(params.capabilities),
      clientInfo: keptClientInfo(params.clientInfo),
      identity,
    });
    log.debug("session created", {
      session: session.id,
      client: identity?.name ?? null,
      client_software: session.clientInfo.name ?? null,
    });
    observer?.sessionCreated();
    observer?.message("initialize", true, 0);
    const json = JSON.stringify({ jsonrpc: "2.0", id: wireId(message.id), result });
    return reply(json, accepts, { "mcp-session-id": session.id });
  };

  const batch = async (
    session: Session,
    identity: Identity | undefined,
    messages: unknown[],
    accepts: Accepts,
  ): Promise<Response> => {
    if (!allowsBatches(session.protocolVersion)) {
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        `Invalid Request: batches are not allowed in protocol version ${session.protocolVersion}`,
      );
    }
    if (messages.length === 0 || messages.length > options.maxBatchSize) {
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        `Invalid Request: a batch holds 1 to ${options.maxBatchSize} messages`,
      );
    }
    const answers = await Promise.all(messages.map(async (message) => {
      if (!isObject(message) || message.jsonrpc !== "2.0") return invalidRequest(message);
      if (message.method === "initialize") {
        return invalidRequest(message, "initialize cannot be batched");
      }
      if (typeof message.method !== "string") return void onResponse(session, message);
      if (!("id" in message)) return void onNotification(session, message);
      if (!isId(message.id)) return invalidRequest(message);
      const res = await serveRequest(session, identity, message, { json: true, sse: false });
      return await res.text();
    }));
    const bodies = answers.filter((a): a is string => a !== undefined);
    if (bodies.length === 0) return new Response(null, { status: 202 });
    return reply(`[${bodies.join(",")}]`, accepts);
  };

  return {
    async post(req, info) {
      const admitted = admit(req, admission, httpError);
      if (admitted instanceof Response) return admitted;
      if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
        return httpError(
          415,
          ErrorCode.InvalidRequest,
          "Unsupported Media Type: Content-Type must be application/json",
        );
      }
      const accepts = parseAccept(req.headers.get("accept"));
      if (!accepts.json && !accepts.sse) {
        return httpError(
          406,
          ErrorCode.InvalidRequest,
          "Not Acceptable: Accept must include application/json or text/event-stream",
        );
      }
      // Only initialize is capped small; a 2026-07-28 request has no session but its full limit.
      const sessionless = !req.headers.has("mcp-session-id") &&
        !isModernVersion(req.headers.get("mcp-protocol-version")?.trim() ?? "");
      const limits = sessionless ? initializeLimits : bodyLimits;
      const read = await readJsonBody(req, limits, httpError);
      if (read instanceof Response) {
        if (read.status === 400) observer?.message("invalid", false, 0);
        return read;
      }
      const body = hasInexactId(read.value) ? parseExactIds(read.text) : read.value;
      const era = classify(body, req.headers.get("mcp-protocol-version"));
      if (era.era === "refused") {
        const { status, code, message, data } = era.refusal;
        const id = isObject(body) && isId(body.id) ? wireId(body.id) : null;
        return rpcErrorResponse(status, id, code, message, data);
      }
      if (era.era === "modern" && options.modern) {
        return options.modern(body as JsonObject, era.envelope, req, {
          identity: admitted.identity,
          principal: principalOf(admitted.identity, info.remoteAddr),
        }, accepts);
      }
      if (isObject(body) && body.method === "initialize" && body.jsonrpc === "2.0") {
        if (read.text.length > initializeLimits.maxBodyBytes) {
          return httpError(
            413,
            ErrorCode.InvalidRequest,
            `Payload Too Large: initialize is limited to ${initializeLimits.maxBodyBytes} bytes (mcp.limits.max_initialize_bytes)`,
          );
        }
        return initialize(body, accepts, admitted.identity);
      }
      const found = lookup(req, admitted.identity);
      if (found instanceof Response) return found;
      if (Array.isArray(body)) return batch(found, admitted.identity, body, accepts);
      if (!isObject(body) || body.jsonrpc !== "2.0") {
        return httpError(
          400,
          ErrorCode.InvalidRequest,
          "Invalid Request: not a JSON-RPC 2.0 message",
        );
      }
      if (typeof body.method === "string") {
        if (!("id" in body)) {
          onNotification(found, body);
          observer?.message(body.method, true, 0);
          return new Response(null, { status: 202 });
        }
        if (!isId(body.id)) {
          return httpError(
            400,
            ErrorCode.InvalidRequest,
            "Invalid Request: id must be a string or a number",
          );
        }
        return serveRequest(found, admitted.identity, body, accepts);
      }
      if (("result" in body || "error" in body) && "id" in body) {
        onResponse(found, body);
        return new Response(null, { status: 202 });
      }
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        "Invalid Request: neither a request, a notification nor a response",
      );
    },

    get(req) {
      const admitted = admit(req, admission, httpError);
      if (admitted instanceof Response) return admitted;
      if (!parseAccept(req.headers.get("accept")).sse) {
        return httpError(
          406,
          ErrorCode.InvalidRequest,
          "Not Acceptable: Accept must include text/event-stream",
        );
      }
      const found = lookup(req, admitted.identity);
      if (found instanceof Response) return found;
      if (found.stream && !found.stream.closed) {
        return httpError(
          409,
          ErrorCode.InvalidRequest,
          "Conflict: this session already has an open stream",
        );
      }
      const channel = new SseChannel({
        keepAliveMs: options.keepAliveMs,
        bufferBytes: options.limits.streamBufferBytes,
        onClose: () => {
          if (found.stream === channel) found.stream = undefined;
        },
      });
      found.used = true;
      attachStream(found, channel);
      observer?.message("listen", true, 0);
      return new Response(channel.body, { headers: SSE_HEADERS });
    },

    delete(req) {
      const admitted = admit(req, admission, httpError);
      if (admitted instanceof Response) return admitted;
      const found = lookup(req, admitted.identity);
      if (found instanceof Response) return found;
      const ended = sessions.end(found.id, "client_delete");
      observer?.message("terminate", ended, 0);
      return ended
        ? new Response(null, { status: 204 })
        : httpError(404, -32001, "Session not found");
    },
  };
}

/** The error that ends an answer stream whose client stopped reading. */
function tooSlow(bufferBytes: number): JsonRpcErrorObject {
  return {
    code: ErrorCode.UpstreamError,
    message: `Cannot stream the answer: the client left more than ${bufferBytes} bytes unread ` +
      "(mcp.limits.stream_buffer_bytes); the call was cancelled",
  };
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

/** The request's session id, or the 400 answer when it has none. */
function sessionIdOf(req: Request): string | Response {
  return req.headers.get("mcp-session-id") ??
    httpError(400, ErrorCode.InvalidRequest, "Bad Request: Mcp-Session-Id header is required");
}

/**
 * The answer to a request over the client's own rate limit: HTTP 429 with Retry-After when the
 * answer is JSON. Limits of an upstream (busy, its rate limit, an open circuit) are JSON-RPC
 * errors with `retry_after_ms` instead: SDK clients read no JSON-RPC error from a non-2xx answer.
 */
function limited(json: string, retryAfterMs: number, accepts: Accepts): Response {
  if (!accepts.json) return reply(json, accepts);
  return new Response(json, {
    status: 429,
    headers: {
      ...JSON_HEADERS,
      "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    },
  });
}

/** Reads which of the two answer types the client takes; a missing header takes both. */
function parseAccept(header: string | null): Accepts {
  if (header === null || header.trim() === "") return { json: true, sse: true };
  const accepts = { json: false, sse: false };
  for (const part of header.split(",")) {
    const [type = "", ...parameters] = part.split(";").map((s) => s.trim().toLowerCase());
    if (parameters.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (type === "*/*") return { json: true, sse: true };
    if (type === "application/json" || type === "application/*") accepts.json = true;
    if (type === "text/event-stream" || type === "text/*") accepts.sse = true;
  }
  return accepts;
}

function reply(json: string, accepts: Accepts, headers: Record<string, string> = {}): Response {
  if (accepts.json) return new Response(json, { headers: { ...JSON_HEADERS, ...headers } });
  const channel = new SseChannel();
  channel.sendLast(json);
  return new Response(channel.body, { headers: { ...SSE_HEADERS, ...headers } });
}

/**
 * Whom a sessionless request is counted against: its identity when auth is on, else the
 * client's address (without the port, which changes with every connection).
 */
function principalOf(identity: Identity | undefined, remoteAddr: string | undefined): string {
  if (identity) return `identity:${identity.name}`;
  const address = remoteAddr?.replace(/:\d+$/, "") ?? "unknown";
  return `address:${address}`;
}

function rpcErrorResponse(
  status: number,
  id: ReturnType<typeof wireId> | null,
  code: number,
  message: string,
  data: Json | undefined,
): Response {
  const error = data === undefined ? { code, message } : { code, message, data };
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, error }), {
    status,
    headers: JSON_HEADERS,
  });
}

function httpError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } }), {
    status,
    headers: JSON_HEADERS,
  });
}

function invalidRequest(message: unknown, reason = "not a JSON-RPC 2.0 request"): string {
  const id = isObject(message) && isId(message.id) ? wireId(message.id) : null;
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${reason}` },
  });
}

function paramsOf(message: JsonObject): JsonObject | undefined {
  return isObject(message.params) ? message.params : undefined;
}
