/** The seam between the JSON-RPC peer and the wire: one interface for every upstream transport. */
import type { JsonRpcMessage } from "../mcp/jsonrpc.ts";
import { GatewayError } from "../mcp/errors.ts";
import { redactUrl } from "../config/net.ts";
import { describeError, type Logger } from "../log.ts";
import type { HttpClientChoice, HttpClientStatus } from "./http_exchange.ts";

/**
 * Where a transport hands every message it receives. `relatedTo` is the id of the request whose
 * stream carried it; `source` is the text the message was parsed from, when it was one message
 * on its own (a result relayed unchanged is written downstream from it).
 */
export type Deliver = (message: JsonRpcMessage, relatedTo?: number, source?: string) => void;

/** Moves JSON-RPC messages to and from one upstream session. */
export interface MessageTransport {
  /** The transport actually in use, as shown in `/health`. */
  readonly kind: "streamable" | "sse" | "stdio" | "openapi";
  /**
   * Whether the transport tells which request a message belongs to (Streamable HTTP does, by
   * the stream it arrives on); stdio and legacy SSE do not.
   */
  readonly correlates: boolean;
  /**
   * Whether `send` only writes the message (stdio), so its signal stops nothing once it returned;
   * absent or false: a send is an exchange (HTTP) that aborting its signal ends.
   */
  readonly writesOnly?: boolean;
  /** Starts receiving; every incoming message goes to `deliver`. */
  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void>;
  /**
   * Sends one message. For HTTP transports the call also reads the answer stream of a request
   * and delivers what arrives on it, resolving once the response to `message` was delivered or
   * the stream ended. Throws {@link SessionExpiredError} when the upstream no longer knows the
   * session and did not process the message. `headers` are extra HTTP headers of a 2026-07-28
   * request (`Mcp-Param-*`); transports other than HTTP ignore them.
   */
  send(
    message: JsonRpcMessage,
    signal: AbortSignal,
    headers?: Record<string, string>,
  ): Promise<void>;
  /** Called once the handshake has completed (for example to open a listening stream). */
  initialized(protocolVersion: string): void;
  /** Forgets the upstream session, so the next initialize starts a new one. */
  resetSession(): void;
  /** Ends the session and frees every resource. */
  close(): Promise<void>;
  /** For HTTP transports: the client in use (native or fetch, and why), for `/health`. */
  readonly httpClient?: HttpClientStatus | undefined;
}

/** Counts bytes moved to (`sent`) and from (`received`) an upstream. */
export type ByteCounter = (direction: "sent" | "received", bytes: number) => void;

/** A `fetch` function, injectable for tests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** What both HTTP transports (Streamable HTTP and legacy SSE) are built from. */
export interface HttpTransportOptions {
  server: string;
  url: string;
  /** Extra headers (already expanded), and `authorization` when the upstream uses a bearer token. */
  headers: Record<string, string>;
  /** The `Accept` value of message POSTs; the spec's two types by default. */
  accept?: string;
  /** Treat events of any type as messages (some servers name their events oddly). */
  normalizeSseEvents?: boolean;
  userAgent: string;
  /** The `fetch` of requests that do not go through the native client. */
  fetch?: FetchLike;
  /** The native HTTP/1.1 client (Streamable HTTP only), or `fetch` and why; `fetch` when absent. */
  client?: HttpClientChoice;
  log: Logger;
  /** Counts message bytes in both directions. */
  countBytes?: ByteCounter;
}

/** The upstream answered that our session is unknown or expired; the message was not processed. */
export class SessionExpiredError extends Error {
  override name = "SessionExpiredError";
}

/** The error of a request that could not reach an upstream (refused, reset, DNS, TLS). */
export function unreachable(server: string, error: unknown): GatewayError {
  return new GatewayError(
    "upstream_unreachable",
    server,
    `Cannot reach upstream '${server}': ${describeError(error)}`,
    { cause: error },
  );
}

/**
 * For an answer that redirects: where it points, redacted, as a note for an error message. HTTP
 * transports never follow redirects, which would carry the configured headers (credentials)
 * wherever they point.
 */
export function redirectNote(res: { status: number; headers: Headers }): string {
  const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
  return location === null ? "" : ` (a redirect to '${redactUrl(location)}', not followed)`;
}
