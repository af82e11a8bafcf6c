/**
 * One MCP client session over {@linkcode Http1Connection}: the handshake, requests with rising
 * ids, and DELETE at the end. Answers are checked by bytes (status 200 and a `"result"` member),
 * not parsed, so checking costs the generator almost nothing.
 *
 * @module
 */
import {
  encodeRequest,
  Http1Connection,
  type HttpResponse,
  includesAscii,
} from "./http1_client.ts";

/** Where an MCP endpoint listens. */
export interface Target {
  hostname: string;
  port: number;
  path: string;
}

/** Splits an `http://host:port/path` URL. */
export function parseTarget(url: string): Target {
  const parsed = new URL(url);
  return {
    hostname: parsed.hostname,
    port: Number(parsed.port || "80"),
    path: parsed.pathname + parsed.search,
  };
}

const decoder = new TextDecoder();

/** The JSON-RPC message of a JSON or SSE answer body (the first `data:` line of a stream). */
export function messageOf(res: HttpResponse): Record<string, unknown> {
  let text = decoder.decode(res.body);
  if (res.contentType.includes("text/event-stream")) {
    // Servers may prime the stream with an event without data (SSE polling, 2025-11-25).
    const data = text.split(/\r?\n/).find((line) =>
      line.startsWith("data:") && line.slice(5).trim() !== ""
    );
    if (data === undefined) throw new Error("Cannot read the answer: an event stream without data");
    text = data.slice(5).trim();
  }
  return JSON.parse(text);
}

/** Whether an answer is a successful JSON-RPC result. */
export function isResult(res: HttpResponse): boolean {
  return res.status === 200 && includesAscii(res.body, '"result"');
}

/** One session with its own kept-alive connection. */
export class RawMcpSession {
  readonly #target: Target;
  readonly #host: string;
  #conn: Http1Connection;
  #sessionId: string | undefined;
  #headers = "content-type: application/json\r\naccept: application/json, text/event-stream\r\n";
  #nextId = 1;

  private constructor(target: Target, conn: Http1Connection) {
    this.#target = target;
    this.#host = `${target.hostname}:${target.port}`;
    this.#conn = conn;
  }

  /** Connects and performs `initialize` + `notifications/initialized`. */
  static async open(target: Target, clientName = "mcpstead-loadgen"): Promise<RawMcpSession> {
    const session = new RawMcpSession(
      target,
      await Http1Connection.open(target.hostname, target.port),
    );
    await session.#handshake(clientName);
    return session;
  }

  /** The session id the server issued, if any. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Sends a request (`params` is JSON text) and returns the raw answer. */
  request(method: string, params: string): Promise<HttpResponse> {
    const body = `{"jsonrpc":"2.0","id":${this.#nextId++},"method":"${method}","params":${params}}`;
    return this.#send(encodeRequest("POST", this.#target.path, this.#host, this.#headers, body));
  }

  /** Sends a notification; resolves with the HTTP status (202 expected). */
  async notify(method: string): Promise<number> {
    const body = `{"jsonrpc":"2.0","method":"${method}"}`;
    const res = await this.#send(
      encodeRequest("POST", this.#target.path, this.#host, this.#headers, body),
    );
    return res.status;
  }

  /** Ends the session with DELETE (when the server issued one) and closes the connection. */
  async close(sendDelete = true): Promise<void> {
    try {
      if (sendDelete && this.#sessionId !== undefined) {
        await this.#send(encodeRequest("DELETE", this.#target.path, this.#host, this.#headers));
      }
    } catch {
      // The server may be gone; closing is best effort.
    } finally {
      this.#conn.close();
    }
  }

  async #handshake(clientName: string): Promise<void> {
    const init = await this.request("initialize", JSON.stringify(initializeParams(clientName)));
    if (init.status !== 200) {
      throw new Error(`Cannot initialize: HTTP ${init.status} ${decoder.decode(init.body)}`);
    }
    const message = messageOf(init);
    const result = message.result as { protocolVersion?: unknown } | undefined;
    if (typeof result?.protocolVersion !== "string") {
      throw new Error(`Cannot initialize: ${JSON.stringify(message).slice(0, 200)}`);
    }
    this.#sessionId = init.sessionId;
    this.#headers += `mcp-protocol-version: ${result.protocolVersion}\r\n`;
    if (init.sessionId !== undefined) this.#headers += `mcp-session-id: ${init.sessionId}\r\n`;
    const status = await this.notify("notifications/initialized");
    if (status !== 202 && status !== 200) {
      throw new Error(`Cannot initialize: notifications/initialized got HTTP ${status}`);
    }
  }

  async #send(bytes: Uint8Array): Promise<HttpResponse> {
    if (this.#conn.closed) {
      this.#conn.close();
      this.#conn = await Http1Connection.open(this.#target.hostname, this.#target.port);
    }
    return await this.#conn.request(bytes);
  }
}

/** The params of a benchmark client's `initialize`: protocol 2025-11-25, no capabilities. */
export function initializeParams(clientName: string) {
  return {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: clientName, version: "1.0.0" },
  };
}
