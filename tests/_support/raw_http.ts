/**
 * A raw TCP client for wire tests: sends exact bytes and reads what comes back as text, so a test
 * can assert on the bytes a server writes (status lines, framing, when it closes).
 *
 * @module
 */
import { type Handler } from "../../src/http/router.ts";
import { type HttpServer, serveHttp, type ServerLimits } from "../../src/http/server.ts";
import type { Logger } from "../../src/log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Default limits for wire tests: short timeouts so tests never wait long. */
export const TEST_LIMITS: ServerLimits = {
  headerTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxConnections: 64,
  maxHeaderBytes: 16_384,
};

/** Serves `handler` on 127.0.0.1 (a free port) with `limits` over {@link TEST_LIMITS}. */
export function serveOnLoopback(
  handler: Handler,
  limits: Partial<ServerLimits> = {},
  log?: Logger,
): HttpServer {
  return serveHttp(Deno.listen({ hostname: "127.0.0.1", port: 0 }), handler, {
    limits: { ...TEST_LIMITS, ...limits },
    ...(log ? { log } : {}),
  });
}

/** One TCP connection whose received bytes accumulate as text. */
export class RawClient implements Disposable {
  readonly #conn: Deno.TcpConn;
  #text = "";
  #closed = false;
  #reading: Promise<void> | undefined;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `port` on 127.0.0.1. */
  static async open(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Everything received so far. */
  get text(): string {
    return this.#text;
  }

  /** Whether the server closed the connection (EOF or reset). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `data` as it is. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let n = 0; n < bytes.length;) n += await this.#conn.write(bytes.subarray(n));
  }

  /** Reads until `done(text)` holds or the server closes; rejects after `timeoutMs`. */
  async readUntil(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.#text) && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Cannot read: no match within ${timeoutMs} ms; got ${JSON.stringify(this.#text)}`,
        );
      }
      await this.#readOnce(left);
    }
    return this.#text;
  }

  /** Reads until the server closes the connection; the text received. */
  readToEnd(timeoutMs = 5000): Promise<string> {
    return this.readUntil(() => false, timeoutMs);
  }

  /** Waits until `count` complete responses (`Content-Length` framed or chunked) arrived. */
  readResponses(count: number, timeoutMs = 5000): Promise<string> {
    return this.readUntil((text) => splitResponses(text).length >= count, timeoutMs);
  }

  /** Closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #readOnce(timeoutMs: number): Promise<void> {
    this.#reading ??= (async () => {
      const buf = new Uint8Array(65_536);
      try {
        const n = await this.#conn.read(buf);
        if (n === null) this.#closed = true;
        else this.#text += decoder.decode(buf.subarray(0, n));
      } catch {
        this.#closed = true;
      } finally {
        this.#reading = undefined;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#reading,
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

/** One response in a text stream: status, lowercased headers and the decoded body. */
export interface RawResponse {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits received text into complete responses (`Content-Length`, chunked, or no body for 1xx,
 * 204 and 304); an incomplete tail is left out.
 */
export function splitResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end === -1) return out;
    const head = rest.slice(0, end);
    const headers: Record<string, string> = {};
    for (const line of head.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(head.slice(9, 12));
    let body = "";
    let after = rest.slice(end + 4);
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const lineEnd = after.indexOf("\r\n");
        if (lineEnd === -1) return out;
        const size = parseInt(after.slice(0, lineEnd), 16);
        if (after.length < lineEnd + 2 + size + 2) return out;
        body += after.slice(lineEnd + 2, lineEnd + 2 + size);
        after = after.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (after.length < length) return out;
      body = after.slice(0, length);
      after = after.slice(length);
    }
    out.push({ status, head, headers, body });
    rest = after;
  }
}
