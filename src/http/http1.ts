/**
 * The HTTP/1.1 wire format (RFC 9112) shared by the downstream server and the upstream client:
 * a receive buffer over a socket, message heads and header fields (bodies are in
 * `http1_body.ts`). Parsing is strict where a lenient reading lets two parties disagree about
 * where a message ends (request smuggling).
 */
import { isHeaderName } from "../config/net.ts";

const CR = 13;
const LF = 10;

/** Bytes that break the HTTP/1.1 grammar; `status` is what a server answers. */
export class HttpWireError extends SyntaxError {
  override name = "HttpWireError";
  /** The status a server answers with (400, 414, 431, 501, ...). */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** What a {@link ByteReader} reads from (a `Deno.Conn`). */
export interface ByteSource {
  read(into: Uint8Array): Promise<number | null>;
}

/** Limits on a message head. */
export interface HeadLimits {
  /** Longest start line (request line or status line), in bytes. */
  maxLine: number;
  /** Largest header section (every field line), in bytes. */
  maxFields: number;
  /** Refuse a line that ends in LF without CR (a server does; a client may accept it). */
  strict: boolean;
}

const utf8 = new TextDecoder();
/** Anything but printable ASCII, HTAB, CR and LF. */
const NOT_PLAIN = /[^\t\r\n\x20-\x7e]/;
/** Control characters other than HTAB, CR and LF. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/**
 * The text of a head: decoded as UTF-8 (five times faster) when it is plain ASCII, else as
 * exact latin1 (obs-text is allowed in field values); control characters are refused.
 */
function headText(bytes: Uint8Array, from: number, to: number): string {
  const text = utf8.decode(bytes.subarray(from, to));
  if (!NOT_PLAIN.test(text)) return text;
  const exact = latin1(bytes, from, to);
  const control = CONTROL.exec(exact);
  if (control !== null) {
    throw new HttpWireError(
      400,
      `Cannot parse the head: it holds the control character ${JSON.stringify(control[0])}`,
    );
  }
  return exact;
}

/** Exact latin1 (ISO-8859-1) text of `bytes[from, to)`: every byte one character. */
export function latin1(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i += 8192) {
    const part = bytes.subarray(i, Math.min(to, i + 8192));
    out += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return out;
}

/** Writes `text` (every character below 256) into `out` at `offset`, one byte each. */
export function writeLatin1(text: string, out: Uint8Array, offset: number): number {
  // A head is ASCII nearly always, which the encoder writes natively (three times as fast as
  // the loop); other latin1 characters, which UTF-8 would write as two bytes, are copied one by one.
  const { read, written } = asciiEncoder.encodeInto(
    text,
    out.subarray(offset, offset + text.length),
  );
  if (read === text.length && written === text.length) return offset + text.length;
  for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  return offset + text.length;
}

const asciiEncoder = new TextEncoder();

/** Small copies are cut from a shared block: allocating an array each cost ten times the copy. */
const POOL_BYTES = 64 * 1024;
const POOLED_MAX = 4096;
let pool = new Uint8Array(POOL_BYTES);
let pooled = 0;

/**
 * `n` bytes of fresh memory: a view into the shared block when small (the block is replaced,
 * never reused, once full: a view keeps its bytes), else an array of its own.
 */
function allocate(n: number): Uint8Array<ArrayBuffer> {
  if (n > POOLED_MAX) return new Uint8Array(n);
  if (pooled + n > POOL_BYTES) {
    pool = new Uint8Array(POOL_BYTES);
    pooled = 0;
  }
  const out = pool.subarray(pooled, pooled + n);
  // Eight-byte steps keep every view aligned for a typed array over its buffer.
  pooled += (n + 7) & ~7;
  return out;
}

/**
 * A growable receive buffer over one connection. `start`/`end` delimit the unread bytes;
 * concurrent `fill()` calls share one read, so a background read (to notice a client that
 * went away) and the next message's reader never race.
 */
export class ByteReader {
  /** The buffer; unread bytes are `buf[start, end)`. */
  buf: Uint8Array<ArrayBuffer>;
  start = 0;
  end = 0;
  /** The peer ended its side of the connection. */
  eof = false;
  readonly #source: ByteSource;
  readonly #maxSize: number;
  #pending: Promise<boolean> | undefined;

  constructor(source: ByteSource, initialSize: number, maxSize: number) {
    this.#source = source;
    this.buf = new Uint8Array(initialSize);
    this.#maxSize = Math.max(initialSize, maxSize);
  }

  /** Unread bytes in the buffer. */
  get available(): number {
    return this.end - this.start;
  }

  /** Whether a read is in progress. */
  get reading(): boolean {
    return this.#pending !== undefined;
  }

  /** Reads more bytes into the buffer; false at EOF. */
  fill(): Promise<boolean> {
    return this.#pending ??= this.#read();
  }

  /** Copies out the next `n` buffered bytes (`n` ≤ `available`). */
  take(n: number): Uint8Array<ArrayBuffer> {
    const out = allocate(n);
    out.set(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    return out;
  }

  /** The next `n` buffered bytes (`n` ≤ `available`) as UTF-8 text, decoded in place. */
  takeText(n: number, decoder: TextDecoder): string {
    const text = decoder.decode(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    return text;
  }

  /** The next `n` bytes; reads past the buffer straight into the result. */
  async takeExact(n: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#pending) await this.#pending;
    if (this.available >= n) return this.take(n);
    const out = new Uint8Array(n);
    let have = this.available;
    out.set(this.buf.subarray(this.start, this.end));
    this.start = this.end = 0;
    while (have < n) {
      const read = await this.#source.read(out.subarray(have));
      if (read === null) {
        this.eof = true;
        throw new HttpWireError(400, "Cannot read the body: the connection closed before its end");
      }
      have += read;
    }
    return out;
  }

  /**
   * Reads one message head (start line and field lines, each with its line end) as latin1
   * text, skipping empty lines before it; null at EOF before any byte.
   */
  async readHead(limits: HeadLimits): Promise<string | null> {
    let scanned = 0;
    let lineStart = 0;
    let firstEnd = -1;
    outer: for (;;) {
      const buf = this.buf;
      const base = this.start;
      const end = this.end;
      for (
        let i = buf.indexOf(LF, base + scanned);
        i !== -1 && i < end;
        i = buf.indexOf(LF, i + 1)
      ) {
        const hasCr = i > base + lineStart && buf[i - 1] === CR;
        if (!hasCr && limits.strict) {
          throw new HttpWireError(400, "Cannot parse the head: a line ends in a bare LF");
        }
        const contentEnd = (hasCr ? i - 1 : i) - base;
        if (contentEnd === lineStart) {
          if (firstEnd === -1) {
            // Empty lines before a start line are ignored (RFC 9112 §2.2).
            this.start = i + 1;
            scanned = lineStart = 0;
            continue outer;
          }
          const text = headText(buf, base, base + lineStart);
          this.start = i + 1;
          return text;
        }
        if (firstEnd === -1) {
          firstEnd = contentEnd;
          if (firstEnd > limits.maxLine) throw tooLongLine(limits.maxLine);
        } else if (i + 1 - base - firstEnd > limits.maxFields) {
          throw tooLargeFields(limits.maxFields);
        }
        lineStart = i + 1 - base;
      }
      scanned = this.end - base;
      if (firstEnd === -1 && scanned > limits.maxLine) throw tooLongLine(limits.maxLine);
      if (firstEnd !== -1 && scanned - firstEnd > limits.maxFields) {
        throw tooLargeFields(limits.maxFields);
      }
      if (!(await this.fill())) {
        if (scanned === 0) return null;
        throw new HttpWireError(400, "Cannot parse the head: the connection closed inside it");
      }
    }
  }

  /** Reads one line (without its line end) as latin1 text, of at most `max` bytes. */
  async readLine(max: number, strict: boolean): Promise<string> {
    let scanned = 0;
    for (;;) {
      const base = this.start;
      for (let i = base + scanned; i < this.end; i++) {
        if (this.buf[i] !== LF) continue;
        const hasCr = i > base && this.buf[i - 1] === CR;
        if (!hasCr && strict) {
          throw new HttpWireError(400, "Cannot parse a chunk: a line ends in a bare LF");
        }
        const text = latin1(this.buf, base, hasCr ? i - 1 : i);
        this.start = i + 1;
        return text;
      }
      scanned = this.end - base;
      if (scanned > max) {
        throw new HttpWireError(400, `Cannot parse a chunk: a line over ${max} bytes`);
      }
      if (!(await this.fill())) {
        throw new HttpWireError(400, "Cannot read the body: the connection closed inside a chunk");
      }
    }
  }

  async #read(): Promise<boolean> {
    try {
      if (this.start === this.end) this.start = this.end = 0;
      else if (this.end === this.buf.length) this.#makeRoom();
      const n = await this.#source.read(this.buf.subarray(this.end));
      if (n === null) {
        this.eof = true;
        return false;
      }
      this.end += n;
      return true;
    } finally {
      this.#pending = undefined;
    }
  }

  #makeRoom(): void {
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      return;
    }
    if (this.buf.length >= this.#maxSize) {
      throw new HttpWireError(431, "Cannot read the message: its head is too large");
    }
    const bigger = new Uint8Array(Math.min(this.buf.length * 2, this.#maxSize));
    bigger.set(this.buf.subarray(0, this.end));
    this.buf = bigger;
  }
}

function tooLongLine(max: number): HttpWireError {
  return new HttpWireError(414, `URI Too Long: the request line is over ${max} bytes`);
}

function tooLargeFields(max: number): HttpWireError {
  return new HttpWireError(431, `Request Header Fields Too Large: over ${max} bytes`);
}

/** A message head: its start line and fields (lowercased names, values without outer whitespace). */
export interface MessageHead {
  startLine: string;
  names: string[];
  values: string[];
}

/**
 * Splits a head from {@link ByteReader.readHead} into its start line and fields. Refuses
 * obs-fold, whitespace before a colon, names that are not tokens, and a CR inside a value.
 */
export function parseHead(text: string): MessageHead {
  let end = text.indexOf("\n");
  const startLine = text.slice(0, text.charCodeAt(end - 1) === CR ? end - 1 : end);
  const names: string[] = [];
  const values: string[] = [];
  while (end < text.length - 1) {
    const from = end + 1;
    end = text.indexOf("\n", from);
    const lineEnd = text.charCodeAt(end - 1) === CR ? end - 1 : end;
    let colon = text.indexOf(":", from);
    if (colon > lineEnd) colon = -1;
    const name = text.slice(from, colon === -1 ? lineEnd : colon);
    if (colon === -1 || !isHeaderName(name)) {
      const line = text.slice(from, lineEnd);
      const what = line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9
        ? "a folded header line (obs-fold)"
        : `an invalid header line ${quoteBytes(line)}`;
      throw new HttpWireError(400, `Cannot parse the head: ${what}`);
    }
    const value = trimOws(text, colon + 1, lineEnd);
    if (value.includes("\r")) {
      throw new HttpWireError(400, `Cannot parse the head: a bare CR in header '${name}'`);
    }
    names.push(name.toLowerCase());
    values.push(value);
  }
  return { startLine, names, values };
}

function trimOws(line: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  return line.slice(a, b);
}

/** A short, printable rendering of untrusted bytes for an error message. */
export function quoteBytes(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}
