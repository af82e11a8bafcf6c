/**
 * A sessionless MCP 2026-07-28 client over {@linkcode Http1Connection}, the load generator's
 * twin of {@linkcode RawMcpSession}: no handshake, every request carries the protocol version,
 * the method and the name in headers and the client's envelope in `params._meta` (spec
 * 2026-07-28: transports/streamable-http, basic/versioning). Answers are checked by bytes.
 *
 * @module
 */
import { encodeRequest, Http1Connection, type HttpResponse } from "./http1_client.ts";
import type { Target } from "./raw_mcp_session.ts";

/** The revision the client speaks. */
export const MODERN_VERSION = "2026-07-28";

/** What a load-generator client does, in either era. */
export interface LoadClient {
  /** Sends a request (`params` is JSON text) and returns the raw answer. */
  request(method: string, params: string): Promise<HttpResponse>;
  /** Closes the connection (and ends the session, when there is one). */
  close(): Promise<void>;
}

/** The params of a modern request: `params` with the client's envelope added to its `_meta`. */
export function withEnvelope(params: string, clientName: string): string {
  const parsed = JSON.parse(params) as Record<string, unknown>;
  const meta = (parsed._meta ?? {}) as Record<string, unknown>;
  parsed._meta = {
    ...meta,
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientInfo": { name: clientName, version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  return JSON.stringify(parsed);
}

/** One 2026-07-28 client with its own kept-alive connection. */
export class RawModernClient implements LoadClient {
  readonly #target: Target;
  readonly #host: string;
  readonly #clientName: string;
  #conn: Http1Connection;
  #nextId = 1;
  /** The last request's method and params, and what they turn into (a load repeats one call). */
  #last: { method: string; params: string; headers: string; body: string } | undefined;

  private constructor(target: Target, conn: Http1Connection, clientName: string) {
    this.#target = target;
    this.#host = `${target.hostname}:${target.port}`;
    this.#conn = conn;
    this.#clientName = clientName;
  }

  /** Connects; there is nothing to negotiate. */
  static async open(target: Target, clientName = "mcpstead-loadgen"): Promise<RawModernClient> {
    const conn = await Http1Connection.open(target.hostname, target.port);
    return new RawModernClient(target, conn, clientName);
  }

  request(method: string, params: string): Promise<HttpResponse> {
    const last = this.#prepared(method, params);
    const body = `{"jsonrpc":"2.0","id":${this
      .#nextId++},"method":"${method}","params":${last.body}}`;
    return this.#send(encodeRequest("POST", this.#target.path, this.#host, last.headers, body));
  }

  close(): Promise<void> {
    this.#conn.close();
    return Promise.resolve();
  }

  #prepared(method: string, params: string) {
    const last = this.#last;
    if (last !== undefined && last.method === method && last.params === params) return last;
    const name = JSON.parse(params) as { name?: unknown; uri?: unknown };
    const mirrored = method === "resources/read" ? name.uri : name.name;
    const headers =
      "content-type: application/json\r\naccept: application/json, text/event-stream\r\n" +
      `mcp-protocol-version: ${MODERN_VERSION}\r\nmcp-method: ${method}\r\n` +
      (typeof mirrored === "string" ? `mcp-name: ${mirrored}\r\n` : "");
    return this.#last = { method, params, headers, body: withEnvelope(params, this.#clientName) };
  }

  async #send(bytes: Uint8Array): Promise<HttpResponse> {
    if (this.#conn.closed) {
      this.#conn.close();
      this.#conn = await Http1Connection.open(this.#target.hostname, this.#target.port);
    }
    return await this.#conn.request(bytes);
  }
}
