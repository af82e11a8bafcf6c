/**
 * The 2025 side of `/mcp` (MCP 2025-11-25 Streamable HTTP, 2025-06-18 and 2025-03-26 clients
 * too): `initialize` opens a session, every other POST names it in `Mcp-Session-Id` and carries
 * one message (or a batch from a 2025-03-26 session), GET opens the session's server→client
 * stream, DELETE ends the session. Requests run through the era-neutral core with what the
 * session holds (capabilities, log level, subscriptions).
 */
import type { Identity } from "../http/auth.ts";
import type { Logger } from "../log.ts";
import type { Dispatcher } from "../core/dispatcher.ts";
import { ErrorCode, isJsonObject as isObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { allowsBatches, isSupportedVersion } from "../mcp/protocol.ts";
import { type Accepts, httpError, parseAccept, reply } from "./answer.ts";
import { isRequestKey as isId } from "./request_ids.ts";
import {
  initialize,
  invalidRequest,
  onNotification,
  onResponse,
  serveRequest,
  storeRefusal,
} from "./session_requests.ts";
import type { Session, SessionCaps, SessionStore } from "./sessions.ts";
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";

/** Receives what the endpoint does, for metrics. */
export interface EndpointObserver {
  /** A message was handled: its method (or `invalid`, `listen`, `terminate`), outcome, duration and client. */
  message(method: unknown, ok: boolean, seconds: number, client?: string): void;
  /** A client's request was refused by its rate limit. */
  rateLimited(client: string): void;
  /** A session was created. */
  sessionCreated(): void;
}

/** Options of {@link createSessionEndpoint}. */
export interface SessionEndpointOptions {
  sessions: SessionStore;
  dispatcher: Dispatcher;
  caps: SessionCaps;
  /** Largest `initialize` body. */
  maxInitializeBytes: number;
  /** Takes a token of a client's (or anonymous session's) rate limit; the wait in ms when none is left. */
  limitClient?(key: string): number | Promise<number>;
  /** Bytes an SSE stream may hold for a client that does not read. */
  streamBufferBytes: number;
  maxBatchSize: number;
  keepAliveMs: number;
  log: Logger;
  /** False once shutdown began: new sessions get 503. */
  accepting(): boolean;
  observer?: EndpointObserver;
  /**
   * In a cluster: sends a message to the replica holding the session's upstream instance it
   * needs, answering with that replica's answer; undefined when this replica serves it.
   */
  forward?(
    session: Session,
    message: JsonObject,
    text: string,
    req: Request,
  ): Promise<Response | undefined> | undefined;
}

/** The 2025 handlers, behind admission and the body read of mcp_endpoint.ts. */
export interface SessionEndpoint {
  /** Serves one POSTed message (or batch) read from `text`. */
  message(
    body: unknown,
    text: string,
    req: Request,
    identity: Identity | undefined,
    accepts: Accepts,
  ): Response | Promise<Response>;
  /** `GET /mcp`: the session's stream. */
  listen(req: Request, identity: Identity | undefined): Response | Promise<Response>;
  /** `DELETE /mcp`: ends the session. */
  end(req: Request, identity: Identity | undefined): Response | Promise<Response>;
}

/** Builds the 2025 session handlers. */
export function createSessionEndpoint(options: SessionEndpointOptions): SessionEndpoint {
  const { sessions, observer } = options;

  /**
   * The request's session; a session is bound to the identity that opened it (spec: security).
   * In a cluster, a session opened on another replica is loaded from the store first.
   */
  const lookup = (
    req: Request,
    identity: Identity | undefined,
  ): Session | Response | Promise<Session | Response> => {
    const id = req.headers.get("mcp-session-id");
    if (id === null) {
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        "Bad Request: Mcp-Session-Id header is required",
      );
    }
    const found = sessions.find(id, identity);
    return found instanceof Promise
      ? found.then((session) => check(req, identity, session), storeRefusal)
      : check(req, identity, found);
  };

  const check = (
    req: Request,
    identity: Identity | undefined,
    session: Session | undefined,
  ): Session | Response => {
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

  const serve = (
    session: Session,
    identity: Identity | undefined,
    message: JsonObject,
    accepts: Accepts,
  ) => serveRequest(options, session, identity, message, accepts);

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
      if (typeof message.method !== "string") return void onResponse(options, session, message);
      if (!("id" in message)) return void onNotification(options, session, message);
      if (!isId(message.id)) return invalidRequest(message);
      const res = await serve(session, identity, message, { json: true, sse: false });
      return await res.text();
    }));
    const bodies = answers.filter((a): a is string => a !== undefined);
    if (bodies.length === 0) return new Response(null, { status: 202 });
    return reply(`[${bodies.join(",")}]`, accepts);
  };

  /** Serves a request or notification of a session on this replica. */
  const serveHere = (
    session: Session,
    body: JsonObject,
    identity: Identity | undefined,
    accepts: Accepts,
  ): Response | Promise<Response> => {
    if (!("id" in body)) {
      onNotification(options, session, body);
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
    return serve(session, identity, body, accepts);
  };

  /** Serves one message of a found session (a request, a notification or an answer). */
  const handle = (
    session: Session,
    body: unknown,
    text: string,
    req: Request,
    identity: Identity | undefined,
    accepts: Accepts,
  ): Response | Promise<Response> => {
    if (Array.isArray(body)) return batch(session, identity, body, accepts);
    if (!isObject(body) || body.jsonrpc !== "2.0") {
      return httpError(
        400,
        ErrorCode.InvalidRequest,
        "Invalid Request: not a JSON-RPC 2.0 message",
      );
    }
    if (typeof body.method === "string") {
      const routed = options.forward?.(session, body, text, req);
      if (!routed) return serveHere(session, body, identity, accepts);
      return routed.then((forwarded) => forwarded ?? serveHere(session, body, identity, accepts));
    }
    if (("result" in body || "error" in body) && "id" in body) {
      onResponse(options, session, body);
      return new Response(null, { status: 202 });
    }
    return httpError(
      400,
      ErrorCode.InvalidRequest,
      "Invalid Request: neither a request, a notification nor a response",
    );
  };

  return {
    message(body, text, req, identity, accepts) {
      if (isObject(body) && body.method === "initialize" && body.jsonrpc === "2.0") {
        if (text.length > options.maxInitializeBytes) {
          return httpError(
            413,
            ErrorCode.InvalidRequest,
            `Payload Too Large: initialize is limited to ${options.maxInitializeBytes} bytes (mcp.limits.max_initialize_bytes)`,
          );
        }
        return initialize(options, body, accepts, identity);
      }
      const found = lookup(req, identity);
      if (found instanceof Response) return found;
      if (!(found instanceof Promise)) return handle(found, body, text, req, identity, accepts);
      return found.then((session) =>
        session instanceof Response ? session : handle(session, body, text, req, identity, accepts)
      );
    },

    listen(req, identity) {
      if (!parseAccept(req.headers.get("accept")).sse) {
        return httpError(
          406,
          ErrorCode.InvalidRequest,
          "Not Acceptable: Accept must include text/event-stream",
        );
      }
      return withSession(lookup(req, identity), (found) => {
        if (found.stream && !found.stream.closed) {
          return httpError(
            409,
            ErrorCode.InvalidRequest,
            "Conflict: this session already has an open stream",
          );
        }
        const channel = new SseChannel({
          keepAliveMs: options.keepAliveMs,
          bufferBytes: options.streamBufferBytes,
          onClose: () => sessions.detach(found, channel),
        });
        found.used = true;
        found.stream = channel;
        sessions.attach(found, channel, req.headers.get("last-event-id"));
        observer?.message("listen", true, 0);
        return new Response(channel.body, { headers: SSE_HEADERS });
      });
    },

    end(req, identity) {
      return withSession(lookup(req, identity), async (found) => {
        let ended: boolean;
        try {
          ended = await sessions.endEverywhere(found.id);
        } catch (error) {
          return storeRefusal(error);
        }
        observer?.message("terminate", ended, 0);
        return ended
          ? new Response(null, { status: 204 })
          : httpError(404, -32001, "Session not found");
      });
    },
  };
}

/** Runs `then` with the session found, or answers the lookup's refusal. */
function withSession(
  found: Session | Response | Promise<Session | Response>,
  then: (session: Session) => Response | Promise<Response>,
): Response | Promise<Response> {
  if (found instanceof Promise) return found.then((session) => withSession(session, then));
  return found instanceof Response ? found : then(found);
}
