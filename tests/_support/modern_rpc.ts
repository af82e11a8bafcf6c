/**
 * Hand-built MCP 2026-07-28 requests, for wire tests where an SDK client would hide what is
 * sent or answered: the `_meta` envelope and the mirrored headers (`MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name`) are written here from the spec (transports/streamable-http, request
 * metadata), not by the gateway's own code.
 *
 * @module
 */

import { type JsonRpcReply, postJsonRpc, readJsonRpcReply } from "./client.ts";
import { MODERN_PROTOCOL_VERSION } from "./era_client.ts";

/** The envelope keys of a 2026-07-28 request's `_meta`. */
export const ENVELOPE = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

/** Capabilities of a client that can be asked everything the bridge asks. */
export const ALL_INPUT = { elicitation: {}, sampling: {}, roots: {} };

/** One hand-built 2026-07-28 request. */
export interface ModernRequest {
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
  /** `clientCapabilities` of the envelope (default {@linkcode ALL_INPUT}). */
  capabilities?: Record<string, unknown>;
  /** Envelope keys that replace the default ones (or `undefined` to leave one out). */
  envelope?: Record<string, unknown>;
  /** Headers sent instead of the mirrored ones (a mismatch, a value to send as is). */
  headers?: Record<string, string>;
  /** Header names not to send. */
  omit?: string[];
}

/** The `Mcp-Name` a client sends for `value` (the Base64 sentinel when it is not plain ASCII). */
export function mcpName(value: string): string {
  const plain = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) &&
    !(value.startsWith("=?base64?") && value.endsWith("?="));
  if (plain) return value;
  const bytes = new TextEncoder().encode(value);
  return `=?base64?${btoa(String.fromCharCode(...bytes))}?=`;
}

/** The body of a 2026-07-28 request, with its envelope. */
export function modernBody(request: ModernRequest): Record<string, unknown> {
  const params = request.params ?? {};
  const ownMeta = (params._meta ?? {}) as Record<string, unknown>;
  const envelope: Record<string, unknown> = {
    [ENVELOPE.protocolVersion]: MODERN_PROTOCOL_VERSION,
    [ENVELOPE.clientInfo]: { name: "wire-client", version: "1.0.0" },
    [ENVELOPE.clientCapabilities]: request.capabilities ?? ALL_INPUT,
    ...request.envelope,
  };
  for (const [key, value] of Object.entries(envelope)) {
    if (value === undefined) delete envelope[key];
  }
  return {
    jsonrpc: "2.0",
    id: request.id,
    method: request.method,
    params: { ...params, _meta: { ...ownMeta, ...envelope } },
  };
}

/** The headers a 2026-07-28 client mirrors from a request's body. */
export function modernHeaders(request: ModernRequest): Record<string, string> {
  const params = request.params ?? {};
  const name = request.method === "resources/read" ? params.uri : params.name;
  const mirrored = ["tools/call", "prompts/get", "resources/read"].includes(request.method);
  const headers: Record<string, string> = {
    "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
    "mcp-method": request.method,
    ...(mirrored && typeof name === "string" ? { "mcp-name": mcpName(name) } : {}),
    ...request.headers,
  };
  for (const omitted of request.omit ?? []) delete headers[omitted.toLowerCase()];
  return headers;
}

/** POSTs a hand-built 2026-07-28 request. */
export function postModern(url: string, request: ModernRequest): Promise<Response> {
  return postJsonRpc(url, modernBody(request), modernHeaders(request));
}

/** POSTs a hand-built 2026-07-28 request and reads its answer (JSON or SSE) and HTTP status. */
export async function callModern(
  url: string,
  request: ModernRequest,
): Promise<{ status: number; reply: JsonRpcReply }> {
  const response = await postModern(url, request);
  return { status: response.status, reply: await readJsonRpcReply(response, request.id) };
}

/** The value at `path` inside a JSON value, or undefined where the path breaks (for assertions). */
export function pick(value: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
