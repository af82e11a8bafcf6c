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

/**
 * One session with its own kept-alive connection; given several targets (the replicas of a
 * cluster), one connection to each, and each request goes to the next (round robin).
 */
export class RawMcpSession {
  readonly #targets: readonly Target[];
  readonly #conns: Http1Connection[];
  #turn = 0;
  #sessionId: string | undefined;
  #headers = "content-type: application/json\r\naccept: application/json, text/event-stream\r\n";
  #nextId = 1;

  private constructor(targets: readonly Target[], conns: Http1Connection[]) {
    this.#targets = targets;
    this.#conns = conns;
  }

  /** Connects (to each target) and performs `initialize` + `notifications/initialized`. */
  static async open(
    target: Target | readonly Target[],
    clientName = "mcpstead-loadgen",
  ): Promise<RawMcpSession> {
    const targets = Array.isArray(target) ? target : [target as Target];
    const conns = await Promise.all(targets.map((t) => Http1Connection.open(t.hostname, t.port)));
    const session = new RawMcpSession(targets, conns);
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
    return this.#send("POST", body);
  }

  /** Sends a notification; resolves with the HTTP status (202 expected). */
  async notify(method: string): Promise<number> {
    const res = await this.#send("POST", `{"jsonrpc":"2.0","method":"${method}"}`);
    return res.status;
  }

  /** Ends the session with DELETE (when the server issued one) and closes the connections. */
  async close(sendDelete = true): Promise<void> {
    try {
      if (sendDelete && this.#sessionId !== undefined) await this.#send("DELETE");
    } catch {
      // The server may be gone; closing is best effort.
    } finally {
      for (const conn of this.#conns) conn.close();
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

  async #send(method: "POST" | "DELETE", body?: string): Promise<HttpResponse> {
    const i = this.#turn++ % this.#targets.length;
    const target = this.#targets[i]!;
    if (this.#conns[i]!.closed) {
      this.#conns[i]!.close();
      this.#conns[i] = await Http1Connection.open(target.hostname, target.port);
    }
    const host = `${target.hostname}:${target.port}`;
    return await this.#conns[i]!.request(
      encodeRequest(method, target.path, host, this.#headers, body),
    );
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
