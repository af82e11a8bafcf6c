/**
 * The REST facade: `POST /api/tools/<name>` (or `/api/<server>/<tool>`, by the upstream's own
 * tool name) with the arguments as a JSON object runs the tool and answers its result as JSON,
 * with no MCP session for the caller to manage. Requests pass the same admission as `/mcp`
 * (header size, Origin guard, auth, scopes, the client's rate limit, body limits). Each call gets
 * a one-off session id, so per-session upstream instances are started for it and released after.
 *
 * Statuses: 200 result; 422 result with `isError`; 400 bad body or arguments the upstream
 * rejected; 404 unknown tool (or one outside the caller's scopes); 429 the caller's rate limit;
 * 502 the upstream failed; 503 the upstream is down, busy or its circuit is open; 504 it timed
 * out.
 */
import {
  type AdmissionOptions,
  admit,
  type JsonBodyLimits,
  readJsonBody,
  type Refuse,
} from "../http/admission.ts";
import type { Identity } from "../http/auth.ts";
import { json, type RequestInfo } from "../http/router.ts";
import { GatewayError, McpError, toJsonRpcError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { LATEST_PROTOCOL_VERSION } from "../mcp/protocol.ts";
import type { Catalog } from "../upstream/catalog.ts";
import type { CallContext, Dispatcher } from "../core/dispatcher.ts";
import { addressOf } from "./client_limits.ts";
import { closestNames } from "./search.ts";

/** Options of {@link createRestApi}. */
export interface RestApiOptions {
  dispatcher: Dispatcher;
  catalog(): Catalog;
  admission: AdmissionOptions;
  bodyLimits: JsonBodyLimits;
  /** Takes a token of a client's rate limit; the wait in ms when none is left. */
  limitClient?(key: string): number | Promise<number>;
  /** A caller was refused by its rate limit. */
  onRateLimited?(client: string): void;
  /** Frees what a call's one-off session holds upstream. */
  release(sessionId: string): void;
  /** False once shutdown began. */
  accepting(): boolean;
}

/** The REST handlers: tool calls, and the tools a caller may use. */
export interface RestApi {
  /** `POST /api/*` */
  call(req: Request, info: RequestInfo): Promise<Response>;
  /** Admits a request and names who is asking (for `GET /openapi.json`). */
  admit(req: Request): { identity: Identity | undefined } | Response;
}

const TOOL_PREFIX = "/api/tools/";
const STATUS_OF: Partial<Record<GatewayError["code"], number>> = {
  upstream_timeout: 504,
  upstream_busy: 503,
  upstream_unavailable: 503,
  upstream_circuit_open: 503,
  upstream_rate_limited: 503,
  rate_limited: 429,
};

/** A refusal with a JSON `{error: {code, message}}` body. */
export const refuseJson: Refuse = (status, code, message) =>
  json(status, { error: { code, message } });

/** Builds the REST facade over the dispatcher. */
export function createRestApi(options: RestApiOptions): RestApi {
  const { dispatcher } = options;

  /** The exposed tool name a path addresses, if it has the shape of one. */
  const nameOf = (path: string): string | undefined => {
    if (path.startsWith(TOOL_PREFIX)) return decode(path.slice(TOOL_PREFIX.length));
    const [server, tool, ...rest] = path.slice("/api/".length).split("/").map(decode);
    if (server === undefined || tool === undefined || rest.length > 0) return undefined;
    const catalog = options.catalog();
    return catalog.tools.map((t) => t.name as string).find((exposed) => {
      const route = catalog.tool(exposed);
      return route?.server === server && route.name === tool;
    });
  };

  const call = async (req: Request, info: RequestInfo): Promise<Response> => {
    const admitted = admit(req, options.admission, refuseJson);
    if (admitted instanceof Response) return admitted;
    if (!options.accepting()) {
      return refuseJson(503, ErrorCode.InvalidRequest, "Service Unavailable: shutting down");
    }
    const { identity } = admitted;
    const client = identity?.name ?? `address:${addressOf(info.remoteAddr ?? "unknown")}`;
    const taken = options.limitClient?.(client) ?? 0;
    const wait = typeof taken === "number" ? taken : await taken;
    if (wait > 0) {
      options.onRateLimited?.(identity?.name ?? "anonymous");
      return json(429, { error: { code: ErrorCode.UpstreamError, message: "Rate limited" } }, {
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    const path = new URL(req.url).pathname;
    const name = nameOf(path);
    if (name === undefined || !dispatcher.mayCall(name, identity)) {
      await req.body?.cancel();
      const asked = name ?? path.slice("/api/".length);
      const tools = dispatcher.tools(identity).map((tool) => tool.name as string);
      return json(404, {
        error: {
          code: ErrorCode.InvalidParams,
          message: `Unknown tool: '${asked}'`,
          did_you_mean: closestNames(asked, tools),
        },
      });
    }
    const read = await readJsonBody(req, options.bodyLimits, refuseJson, {});
    if (read instanceof Response) return read;
    if (!isJsonObject(read.value)) {
      return refuseJson(
        400,
        ErrorCode.InvalidParams,
        "Bad Request: the body must be a JSON object of the tool's arguments",
      );
    }
    const sessionId = `rest-${crypto.randomUUID()}`;
    try {
      const result = await dispatcher.handle(
        "tools/call",
        { name, arguments: read.value },
        oneOffContext(sessionId, identity, req.signal),
      );
      return json(result.isError === true ? 422 : 200, result);
    } catch (error) {
      return failure(error);
    } finally {
      options.release(sessionId);
    }
  };

  return { call, admit: (req) => admit(req, options.admission, refuseJson) };
}

/**
 * The call context of a request with no MCP session: it declares no client capabilities, and
 * `signal` is the request's own, which the gateway's server aborts when the client hangs up,
 * so the upstream call is cancelled too.
 */
function oneOffContext(
  sessionId: string,
  identity: Identity | undefined,
  signal: AbortSignal,
): CallContext {
  return {
    sessionId,
    protocolVersion: LATEST_PROTOCOL_VERSION,
    clientCapabilities: {},
    identity,
    state: { logLevel: undefined, subscriptions: new Set() },
    signal,
    notify: () => {},
    ask: (request) =>
      Promise.reject(
        new McpError(
          ErrorCode.MethodNotFound,
          `A REST caller cannot answer '${request.method}'; call this tool over /mcp`,
        ),
      ),
  };
}

/** The HTTP answer to a failed call. */
function failure(error: unknown): Response {
  const body = { error: toJsonRpcError(error) as unknown as JsonObject };
  if (error instanceof GatewayError) {
    const headers: Record<string, string> = error.retryAfterMs === undefined
      ? {}
      : { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
    return json(STATUS_OF[error.code] ?? 502, body, headers);
  }
  if (error instanceof McpError) {
    return json(error.code === ErrorCode.InvalidParams ? 400 : 502, body);
  }
  return json(500, body);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
