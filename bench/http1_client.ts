/**
 * A minimal HTTP/1.1 keep-alive client on `Deno.connect`, for load generation: one request at
 * a time per connection, `Content-Length` and chunked bodies, no redirects, no TLS. It costs a
 * fraction of `fetch` per request, so the generator leaves more CPU to what it measures.
 *
 * @module
 */

/** One response, with the headers a benchmark needs. */
export interface HttpResponse {
  status: number;
  /** `content-type`, or "" when absent. */
  contentType: string;
  /** `mcp-session-id`, when present. */
  sessionId: string | undefined;
  body: Uint8Array;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Encodes a request; `headers` are written as given after `Host` and `Content-Length`. */
export function encodeRequest(
  method: string,
  path: string,
  host: string,
  headers: string,
  body?: string,
): Uint8Array {
  if (body === undefined) {
    return encoder.encode(`${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n${headers}\r\n`);
  }
  const payload = encoder.encode(body);
  const head = encoder.encode(
    `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${payload.length}\r\n${headers}\r\n`,
  );
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** Whether `needle` (ASCII) occurs in `bytes`. */
export function includesAscii(bytes: Uint8Array, needle: string): boolean {
  const first = needle.charCodeAt(0);
  const last = bytes.length - needle.length;
  outer: for (
    let i = bytes.indexOf(first);
    i !== -1 && i <= last;
    i = bytes.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) {
      if (bytes[i + j] !== needle.charCodeAt(j)) continue outer;
    }
    return true;
  }
  return false;
}

/** One kept-alive connection. */
export class Http1Connection {
  readonly #conn: Deno.TcpConn;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #closed = false;
  #open = true;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `hostname:port` with Nagle off. */
  static async open(hostname: string, port: number): Promise<Http1Connection> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new Http1Connection(conn);
  }

  /** Whether the server closed the connection (or asked to). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends an encoded request and reads its response. */
  async request(bytes: Uint8Array): Promise<HttpResponse> {
    if (this.#closed) throw new Error("Cannot send: the connection is closed");
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(written === 0 ? bytes : bytes.subarray(written));
    }
    return await this.#readResponse();
  }

  /** Closes the socket. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #readResponse(): Promise<HttpResponse> {
    let headerEnd: number;
    while ((headerEnd = this.#find(true)) === -1) await this.#fill();
    const head = latin1.decode(this.#buf.subarray(this.#start, headerEnd));
    this.#start = headerEnd + 4;
    const lines = head.split("\r\n");
    const status = Number(lines[0]!.slice(9, 12));
    let contentType = "";
    let sessionId: string | undefined;
    let length = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (name === "content-type") contentType = value;
      else if (name === "mcp-session-id") sessionId = value;
      else if (name === "connection" && value.toLowerCase() === "close") this.#closed = true;
    }
    let body: Uint8Array;
    if (chunked) body = await this.#readChunked();
    else if (length >= 0) {
      await this.#ensure(length);
      body = this.#buf.slice(this.#start, this.#start + length);
      this.#start += length;
    } else if (status === 204 || status === 304 || status < 200) body = new Uint8Array(0);
    else body = await this.#readToEnd();
    return { status, contentType, sessionId, body };
  }

  async #readChunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = this.#find(false)) === -1) await this.#fill();
      const size = parseInt(latin1.decode(this.#buf.subarray(this.#start, lineEnd)), 16);
      this.#start = lineEnd + 2;
      if (size === 0) {
        // Trailers (none expected) end with an empty line.
        for (;;) {
          while ((lineEnd = this.#find(false)) === -1) await this.#fill();
          const empty = lineEnd === this.#start;
          this.#start = lineEnd + 2;
          if (empty) break;
        }
        break;
      }
      await this.#ensure(size + 2);
      parts.push(this.#buf.slice(this.#start, this.#start + size));
      total += size;
      this.#start += size + 2;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  async #readToEnd(): Promise<Uint8Array> {
    while (await this.#fill(true));
    this.#closed = true;
    const body = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end;
    return body;
  }

  /** The offset of the next CRLF (or CRLFCRLF) at or after the read position; -1 if not yet read. */
  #find(double: boolean): number {
    const buf = this.#buf;
    const last = this.#end - (double ? 4 : 2);
    for (let i = this.#start; i <= last; i++) {
      if (buf[i] !== 13 || buf[i + 1] !== 10) continue;
      if (!double || (buf[i + 2] === 13 && buf[i + 3] === 10)) return i;
    }
    return -1;
  }

  async #ensure(bytes: number): Promise<void> {
    while (this.#end - this.#start < bytes) await this.#fill();
  }

  /** Reads more bytes; at EOF returns false when `eofOk`, else throws. */
  async #fill(eofOk = false): Promise<boolean> {
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#end === this.#buf.length) {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    } else if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.#closed = true;
      if (eofOk) return false;
      throw new Error("Cannot read the response: the server closed the connection");
    }
    this.#end += n;
    return true;
  }
}

/** One GET on a fresh connection (for probes such as `/health`). */
export async function getOnce(url: string): Promise<HttpResponse> {
  const parsed = new URL(url);
  const conn = await Http1Connection.open(parsed.hostname, Number(parsed.port || "80"));
  try {
    return await conn.request(
      encodeRequest("GET", parsed.pathname + parsed.search, parsed.host, "connection: close\r\n"),
    );
  } finally {
    conn.close();
  }
}
