/**
 * `/mcp` for both protocol eras: admission (header size, Host/Origin guard, authentication), the
 * content type, accept and body checks, then each POSTed message goes by its body (spec
 * 2026-07-28: versioning, a dual-era server) to the 2026-07-28 per-request endpoint when it
 * carries a `_meta` envelope, else to the 2025 session endpoint; GET and DELETE are the session
 * endpoint's.
 */
import {
  type AdmissionOptions,
  admit,
  type JsonBody,
  type JsonBodyLimits,
  readJsonBody,
} from "../http/admission.ts";
import type { Identity } from "../http/auth.ts";
import type { Handler, RequestInfo } from "../http/router.ts";
import { classify, isModernVersion } from "../mcp/era.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { type Accepts, httpError, parseAccept, rpcErrorResponse } from "./answer.ts";
import type { ModernEndpoint } from "./modern_endpoint.ts";
import { hasInexactId, isRequestKey, parseExactIds, wireId } from "./request_ids.ts";
import type { SessionEndpoint } from "./session_endpoint.ts";

/** The header of a request forwarded by another replica of a cluster, with its proof. */
export const FORWARDED_HEADER = "x-mcpstead-forwarded";

/** Options of {@link createMcpEndpoint}. */
export interface McpEndpointOptions {
  admission: AdmissionOptions;
  /** Limits of a request body. */
  bodyLimits: JsonBodyLimits;
  /** The smaller cap a request without a session is read under (it can only be initialize). */
  maxInitializeBytes: number;
  session: SessionEndpoint;
  modern: ModernEndpoint;
  /** A body could not be read as acceptable JSON (for metrics). */
  onInvalid?(): void;
  /** In a cluster: the proof of a request another replica forwarded (undefined when forged). */
  forwarded?(proof: string, text: string): { principal: string } | undefined;
  /**
   * In a cluster: sends a 2026-07-28 request to the replica holding its flow or its caller's
   * upstream instance; resolves undefined when this replica serves it.
   */
  route?(
    message: JsonObject,
    text: string,
    req: Request,
    principal: string,
  ): Promise<Response | undefined> | undefined;
}

/** The three handlers of `/mcp`. */
export interface McpEndpoint {
  post: Handler;
  get: Handler;
  delete: Handler;
}

/** Builds the `/mcp` handlers. */
export function createMcpEndpoint(options: McpEndpointOptions): McpEndpoint {
  const initializeLimits = {
    ...options.bodyLimits,
    maxBodyBytes: Math.min(options.bodyLimits.maxBodyBytes, options.maxInitializeBytes),
  };
  return {
    post(req, info) {
      const admitted = admit(req, options.admission, httpError);
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
      const headerVersion = req.headers.get("mcp-protocol-version");
      // Only initialize is capped small; a 2026-07-28 request has no session but its full limit.
      const sessionless = !req.headers.has("mcp-session-id") &&
        !isModernVersion(headerVersion?.trim() ?? "");
      const read = readJsonBody(
        req,
        sessionless ? initializeLimits : options.bodyLimits,
        httpError,
      );
      const request: PostedRequest = { req, info, identity: admitted.identity, accepts };
      // A body the server already holds is served without waiting for a promise.
      return read instanceof Promise
        ? read.then((body) => serveBody(options, request, body, headerVersion))
        : serveBody(options, request, read, headerVersion);
    },
    get(req) {
      const admitted = admit(req, options.admission, httpError);
      if (admitted instanceof Response) return admitted;
      return options.session.listen(req, admitted.identity);
    },
    delete(req) {
      const admitted = admit(req, options.admission, httpError);
      if (admitted instanceof Response) return admitted;
      return options.session.end(req, admitted.identity);
    },
  };
}

/** A POST whose body was read, and what its head said. */
interface PostedRequest {
  req: Request;
  info: RequestInfo;
  identity: Identity | undefined;
  accepts: Accepts;
}

/** Serves a POSTed body by its era: the 2026-07-28 endpoint, or the 2025 session endpoint. */
function serveBody(
  options: McpEndpointOptions,
  { req, info, identity, accepts }: PostedRequest,
  read: JsonBody | Response,
  headerVersion: string | null,
): Response | Promise<Response> {
  if (read instanceof Response) {
    if (read.status === 400) options.onInvalid?.();
    return read;
  }
  const proof = options.forwarded ? req.headers.get(FORWARDED_HEADER) : null;
  const forwarded = proof === null ? undefined : options.forwarded!(proof, read.text);
  if (proof !== null && !forwarded) {
    return httpError(403, ErrorCode.InvalidRequest, "Forbidden: not a request of a replica");
  }
  const body = hasInexactId(read.value) ? parseExactIds(read.text) : read.value;
  const era = classify(body, headerVersion, req.headers.has("mcp-session-id"));
  if (era.era === "refused") {
    const { status, code, message, data } = era.refusal;
    const id = isJsonObject(body) && isRequestKey(body.id) ? wireId(body.id) : null;
    return rpcErrorResponse(status, id, code, message, data);
  }
  if (era.era === "modern") {
    const caller = {
      identity,
      principal: forwarded?.principal || principalOf(identity, info.remoteAddr),
    };
    const message = body as JsonObject;
    const routed = options.route?.(message, read.text, req, caller.principal);
    if (!routed) return options.modern(message, era.envelope, req, caller, accepts);
    return routed.then((answer) =>
      answer ?? options.modern(message, era.envelope, req, caller, accepts)
    );
  }
  return options.session.message(body, read.text, req, identity, accepts);
}

/**
 * Whom a sessionless request is counted against: its identity when auth is on, else the
 * client's address (without the port, which changes with every connection).
 */
function principalOf(identity: Identity | undefined, remoteAddr: string | undefined): string {
  if (identity) return `identity:${identity.name}`;
  // A client's requests come from one address: its principal is made once, not per request.
  if (remoteAddr !== lastAddr) {
    lastAddr = remoteAddr;
    lastPrincipal = `address:${remoteAddr?.replace(/:\d+$/, "") ?? "unknown"}`;
  }
  return lastPrincipal;
}

let lastAddr: string | undefined;
let lastPrincipal = "address:unknown";
