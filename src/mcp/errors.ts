/** The two error families: what a client sees (McpError) and what went wrong inside (GatewayError). */
import { ErrorCode, type Json, type JsonObject, type JsonRpcErrorObject } from "./jsonrpc.ts";

/** A JSON-RPC error to send to a client as is: a numeric code, a message and optional data. */
export class McpError extends Error {
  override name = "McpError";
  /** The JSON-RPC error code. */
  readonly code: number;
  /** Optional structured data for the client. */
  readonly data: Json | undefined;

  constructor(code: number, message: string, data?: Json) {
    super(message);
    this.code = code;
    this.data = data;
  }

  /** The wire form of this error. */
  toJson(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** Why the gateway could not get an answer from an upstream. */
export type GatewayErrorCode =
  | "upstream_unreachable"
  | "upstream_disconnected"
  | "upstream_unavailable"
  | "upstream_timeout"
  | "upstream_http_error"
  | "upstream_protocol_error"
  | "upstream_closed"
  | "upstream_busy"
  | "upstream_circuit_open"
  | "upstream_rate_limited"
  | "rate_limited"
  | "upstream_cancelled";

/** Options of {@link GatewayError}. */
export interface GatewayErrorOptions extends ErrorOptions {
  /** The upstream's HTTP status, for `upstream_http_error`. */
  status?: number;
  /** For limits and open circuits: when trying again may succeed. */
  retryAfterMs?: number;
  /** The JSON-RPC error code in the body of the upstream's HTTP error, if it sent one. */
  rpcCode?: number;
}

/** An internal failure to reach or understand an upstream; clients see it as a -32000 error naming the upstream. */
export class GatewayError extends Error {
  override name = "GatewayError";
  /** The machine-readable reason, also used as a metrics label. */
  readonly code: GatewayErrorCode;
  /** The upstream server the failure belongs to. */
  readonly server: string;
  /** The upstream's HTTP status, when it answered one. */
  readonly status: number | undefined;
  /** For limits and open circuits: when trying again may succeed. */
  readonly retryAfterMs: number | undefined;
  /** The JSON-RPC error code in the body of the upstream's HTTP error, if it sent one. */
  readonly rpcCode: number | undefined;

  constructor(
    code: GatewayErrorCode,
    server: string,
    message: string,
    options?: GatewayErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.server = server;
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
    this.rpcCode = options?.rpcCode;
  }
}

/** Turns any thrown value into the JSON-RPC error a client may see, without leaking internals. */
export function toJsonRpcError(error: unknown): JsonRpcErrorObject {
  if (error instanceof McpError) return error.toJson();
  if (error instanceof GatewayError) {
    const data: JsonObject = { server: error.server, reason: error.code };
    if (error.retryAfterMs !== undefined) data.retry_after_ms = error.retryAfterMs;
    return { code: ErrorCode.UpstreamError, message: error.message, data };
  }
  return { code: ErrorCode.InternalError, message: "Internal error" };
}

/** Shorthand for an invalid-params error. */
export function invalidParams(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message);
}
