/**
 * One kept-alive HTTP/1.1 connection of the upstream client, and how it is opened (TCP, or TLS
 * offering only HTTP/1.1 through ALPN).
 */
import { ByteReader, type HeadLimits, writeLatin1 } from "../http/http1.ts";
import { type Deadline, deadlines } from "./deadlines.ts";

/** The upstream does not speak HTTP/1.1: ALPN refused it, or it answered in another protocol. */
export class NotHttp1Error extends Error {
  override name = "NotHttp1Error";
}

/** Limits on an answer's head. */
export const ANSWER_HEAD: HeadLimits = { maxLine: 8192, maxFields: 65_536, strict: false };
const encoder = new TextEncoder();

/** One kept-alive connection; as a {@link Deadline} it is when an idle one is closed. */
export class Connection implements Deadline {
  readonly conn: Deno.Conn;
  readonly reader: ByteReader;
  /** It carried an earlier exchange. */
  reused = false;
  /** While idle: when it is closed. */
  at = 0;
  closed = false;
  /** Called when it was idle too long. */
  fire: () => void = () => {};
  #out = new Uint8Array(4096);
  #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.destroy();

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reader = new ByteReader(
      conn,
      16_384,
      16_384 + ANSWER_HEAD.maxLine + ANSWER_HEAD.maxFields,
    );
  }

  /** Closes the socket when `signal` aborts, until {@link unwatch}. */
  watch(signal: AbortSignal): void {
    this.#signal = signal;
    signal.addEventListener("abort", this.#onAbort);
  }

  unwatch(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#signal = undefined;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    deadlines.delete(this);
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Writes `head` (latin1, without `Content-Length`) and `body` (UTF-8) in one write: the body
   * is encoded into the connection's buffer first, and the head placed right before it.
   */
  async send(head: string, body: string | undefined): Promise<void> {
    if (body === undefined) return await this.#write(this.#encodeHead(`${head}\r\n`));
    const room = head.length + 40;
    let out = this.#out;
    if (out.length < room + body.length * 3 && out.length < 65_536) {
      out = this.#out = new Uint8Array(
        Math.min(65_536, Math.max(out.length * 2, room + body.length * 3)),
      );
    }
    const { read, written } = encoder.encodeInto(body, out.subarray(room));
    if (read < body.length) {
      const bytes = encoder.encode(body);
      const text = `${head}content-length: ${bytes.length}\r\n\r\n`;
      const whole = new Uint8Array(text.length + bytes.length);
      writeLatin1(text, whole, 0);
      whole.set(bytes, text.length);
      return await this.#write(whole);
    }
    const text = `${head}content-length: ${written}\r\n\r\n`;
    const start = room - text.length;
    writeLatin1(text, out, start);
    await this.#write(out.subarray(start, room + written));
  }

  #encodeHead(text: string): Uint8Array {
    const out = text.length <= this.#out.length ? this.#out : new Uint8Array(text.length);
    writeLatin1(text, out, 0);
    return out.subarray(0, text.length);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let written = await this.conn.write(bytes);
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }
}

/** Opens a TCP or TLS connection to `url`'s origin, offering only HTTP/1.1 over TLS. */
export async function connectTo(
  url: URL,
  caCerts: string[] | undefined,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  if (!tls) {
    const conn = await Deno.connect({ hostname, port, signal });
    conn.setNoDelay(true);
    return conn;
  }
  const conn = await Deno.connectTls({
    hostname,
    port,
    alpnProtocols: ["http/1.1"],
    ...(caCerts === undefined ? {} : { caCerts }),
  });
  const abort = () => conn.close();
  signal.addEventListener("abort", abort, { once: true });
  try {
    await conn.handshake();
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Closed by the abort.
    }
    signal.throwIfAborted();
    if (/NoApplicationProtocol/i.test(String(error))) {
      throw new NotHttp1Error("the upstream refused HTTP/1.1 in the TLS handshake (ALPN)");
    }
    throw error;
  } finally {
    signal.removeEventListener("abort", abort);
  }
  return conn;
}
