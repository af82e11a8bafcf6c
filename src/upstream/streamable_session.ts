/**
 * What a Streamable HTTP session puts in its request headers: the session id the upstream gave
 * and the protocol version agreed in the handshake (MCP 2025-11-25 §Transports, session
 * management), or for a 2026-07-28 request no session and the method and name mirrored.
 */
import { encodeHeaderValue, META } from "../mcp/era.ts";
import { isJsonObject, type JsonRpcMessage, type JsonRpcRequest } from "../mcp/jsonrpc.ts";
import type { HttpTransportOptions } from "./transport.ts";

/** Requests whose `Mcp-Name` header mirrors `params.name` (or `params.uri`). */
const NAMED = new Set(["tools/call", "prompts/get", "resources/read"]);

/** The 2026-07-28 revision a message claims in its envelope, if any. */
export function modernVersionOf(message: JsonRpcMessage): string | undefined {
  if (!("method" in message) || !isJsonObject(message.params)) return undefined;
  const meta = message.params._meta;
  const version = isJsonObject(meta) ? meta[META.protocolVersion] : undefined;
  return typeof version === "string" ? version : undefined;
}

/** The session id and protocol version of one Streamable HTTP session, and the headers they make. */
export class StreamableSession {
  readonly #options: HttpTransportOptions;
  #id: string | undefined;
  #protocolVersion: string | undefined;
  /** The headers of message POSTs, rebuilt when the session or protocol version changes. */
  #post: Record<string, string> | undefined;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
  }

  /** The session id the upstream gave, if any. */
  get id(): string | undefined {
    return this.#id;
  }

  /** Keeps the session id an answer carried. */
  adopt(id: string): void {
    if (id === this.#id) return;
    this.#id = id;
    this.#post = undefined;
  }

  /** Keeps the protocol version agreed in the handshake, sent with every later request. */
  initialized(protocolVersion: string): void {
    this.#protocolVersion = protocolVersion;
    this.#post = undefined;
  }

  /** Forgets the session, so the next initialize starts a new one. */
  reset(): void {
    this.#id = undefined;
    this.#protocolVersion = undefined;
    this.#post = undefined;
  }

  /** The headers of a message POST of a 2025 session. */
  post(): Record<string, string> {
    return this.#post ??= this.#headers("application/json");
  }

  /** The headers of a GET event stream (resumed after `lastEventId`) or of the closing DELETE. */
  withoutBody(lastEventId?: string): Record<string, string> {
    return this.#headers(undefined, lastEventId);
  }

  /** The headers of a 2026-07-28 request: no session, the method and name mirrored (spec: SEP-2243). */
  modern(
    message: JsonRpcRequest,
    version: string,
    extra: Record<string, string> | undefined,
  ): Record<string, string> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      accept: this.#options.accept ?? "application/json, text/event-stream",
      "user-agent": this.#options.userAgent,
      "content-type": "application/json",
      "mcp-protocol-version": version,
      "mcp-method": message.method,
      ...extra,
    };
    const name = message.params?.[message.method === "resources/read" ? "uri" : "name"];
    if (NAMED.has(message.method) && typeof name === "string") {
      headers["mcp-name"] = encodeHeaderValue(name);
    }
    return headers;
  }

  #headers(contentType: string | undefined, lastEventId?: string): Record<string, string> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      accept: contentType
        ? this.#options.accept ?? "application/json, text/event-stream"
        : "text/event-stream",
      "user-agent": this.#options.userAgent,
    };
    if (contentType) headers["content-type"] = contentType;
    if (this.#id !== undefined) headers["mcp-session-id"] = this.#id;
    if (this.#protocolVersion !== undefined) {
      headers["mcp-protocol-version"] = this.#protocolVersion;
    }
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    return headers;
  }
}
