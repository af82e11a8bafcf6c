/**
 * The checks every API request passes before it is served, shared by `/mcp` and the REST API:
 * header size, the Host/Origin guard and authentication, then a JSON body read under a size cap,
 * a deadline and a nesting limit. Each caller words its refusals in its own body format.
 */
import { type Authenticator, type AuthResult, type Identity, unauthorized } from "./auth.ts";
import { BodyTooLargeError, overLimit, readCappedBody } from "./body.ts";
import { headerBytes } from "./field_headers.ts";
import { IncomingRequest } from "./incoming_request.ts";
import { type JsonShapeLimits, jsonShapeProblem } from "./json_shape.ts";
import type { GuardRefusal, OriginGuard } from "./origin.ts";
import { ErrorCode } from "../mcp/jsonrpc.ts";

/** Builds a refusal in the caller's body format from an HTTP status, a JSON-RPC code and a message. */
export type Refuse = (status: number, code: number, message: string) => Response;

/** What {@link admit} checks. */
export interface AdmissionOptions {
  guard: OriginGuard;
  /** Present when downstream auth is on. */
  authenticate: Authenticator | undefined;
  maxHeaderBytes: number;
  /** Receives every authentication outcome, for metrics. */
  onAuth?(result: AuthResult): void;
}

/** Limits on a JSON request body. */
export interface JsonBodyLimits extends JsonShapeLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The answer to a request the Host/Origin guard refused, in the caller's body format. */
export function refuseGuarded(refusal: GuardRefusal, refuse: Refuse): Response {
  const title = refusal.status === 400 ? "Bad Request" : "Forbidden";
  return refuse(refusal.status, ErrorCode.InvalidRequest, `${title}: ${refusal.reason}`);
}

/** Header size, Host/Origin guard, then authentication: who is asking, or the refusal. */
export function admit(
  req: Request,
  options: AdmissionOptions,
  refuse: Refuse,
): { identity: Identity | undefined } | Response {
  if (headerBytes(req.headers) > options.maxHeaderBytes) {
    return refuse(
      431,
      ErrorCode.InvalidRequest,
      `Request Header Fields Too Large: over ${options.maxHeaderBytes} bytes`,
    );
  }
  const refusal = options.guard(req);
  if (refusal !== undefined) return refuseGuarded(refusal, refuse);
  if (!options.authenticate) return { identity: undefined };
  const result = options.authenticate(req);
  options.onAuth?.(result);
  return result.ok ? { identity: result.identity } : unauthorized(options.authenticate.scheme);
}

/** A JSON body as read: its value and its text. */
export interface JsonBody {
  value: unknown;
  text: string;
}

/**
 * Reads and parses a JSON body: 413 when too large, 408 when it does not arrive in time, 400
 * when it is not acceptable JSON (malformed, too deep or too many values: checked before it is
 * parsed). The text is returned as well. With `empty`, a body of no bytes (e.g. `curl -X POST`
 * sends neither a body nor a Content-Length) reads as that value. A body the gateway's server
 * already holds whole is read at once, without a promise.
 */
export function readJsonBody(
  req: Request,
  limits: JsonBodyLimits,
  refuse: Refuse,
  empty?: unknown,
): JsonBody | Response | Promise<JsonBody | Response> {
  const received = req instanceof IncomingRequest ? req.received() : undefined;
  if (received === undefined) return readStreamedJson(req, limits, refuse, empty);
  if (received.length > limits.maxBodyBytes) {
    return refuse(
      413,
      ErrorCode.InvalidRequest,
      `Payload Too Large: ${overLimit(received.length, limits.maxBodyBytes)}`,
    );
  }
  return parseJsonBody(received, limits, refuse, empty);
}

async function readStreamedJson(
  req: Request,
  limits: JsonBodyLimits,
  refuse: Refuse,
  empty?: unknown,
): Promise<JsonBody | Response> {
  let bytes: Uint8Array;
  try {
    bytes = await readCappedBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return refuse(413, ErrorCode.InvalidRequest, `Payload Too Large: ${error.message}`);
    }
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return refuse(
        408,
        ErrorCode.InvalidRequest,
        "Request Timeout: the body did not arrive in time",
      );
    }
    return unreadable(refuse);
  }
  return parseJsonBody(bytes, limits, refuse, empty);
}

function parseJsonBody(
  bytes: Uint8Array,
  limits: JsonBodyLimits,
  refuse: Refuse,
  empty: unknown,
): JsonBody | Response {
  if (bytes.length === 0 && empty !== undefined) return { value: empty, text: "" };
  const problem = jsonShapeProblem(bytes, limits);
  if (problem !== undefined) {
    return refuse(400, ErrorCode.InvalidRequest, `Invalid Request: ${problem}`);
  }
  try {
    const text = decoder.decode(bytes);
    return { value: JSON.parse(text), text };
  } catch {
    return unreadable(refuse);
  }
}

function unreadable(refuse: Refuse): Response {
  return refuse(400, ErrorCode.ParseError, "Parse error: the body is not valid UTF-8 JSON");
}
