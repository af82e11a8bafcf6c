/**
 * HTTP/1.1 message bodies (RFC 9112 §6, §7), read piece by piece from a {@link ByteReader}:
 * `Content-Length`, the chunked coding, and answers that end when the connection closes.
 */
import { concatBytes } from "./body.ts";
import { type ByteReader, HttpWireError, quoteBytes } from "./http1.ts";

const DIGITS = /^\d{1,15}$/;

/**
 * The value of `Content-Length` fields: digits only; several fields (or a list) must agree.
 * Undefined when there is none.
 */
export function contentLengthOf(values: readonly string[]): number | undefined {
  if (values.length === 1 && DIGITS.test(values[0]!)) return Number(values[0]);
  let length: number | undefined;
  for (const value of values) {
    for (const item of value.split(",")) {
      const digits = item.trim();
      if (!DIGITS.test(digits)) {
        throw new HttpWireError(400, `Cannot parse the head: Content-Length ${quoteBytes(value)}`);
      }
      const n = Number(digits);
      if (length !== undefined && n !== length) {
        throw new HttpWireError(400, "Cannot parse the head: differing Content-Length values");
      }
      length = n;
    }
  }
  return length;
}

/** A message body read piece by piece; `next()` is null once it ended. */
export interface BodyReader {
  /** Whether the whole body was read. */
  readonly done: boolean;
  next(): Promise<Uint8Array<ArrayBuffer> | null>;
}

/** A body of `Content-Length` bytes. */
export class LengthBody implements BodyReader {
  readonly #reader: ByteReader;
  #remaining: number;

  constructor(reader: ByteReader, length: number) {
    this.#reader = reader;
    this.#remaining = length;
  }

  get done(): boolean {
    return this.#remaining === 0;
  }

  /** The rest of the body in one array, read straight into it (no copy per read). */
  async all(limit: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#remaining > limit) {
      throw new RangeError(`Cannot read the body: ${this.#remaining} bytes is over ${limit}`);
    }
    const out = await this.#reader.takeExact(this.#remaining);
    this.#remaining = 0;
    return out;
  }

  /**
   * The rest of the body as text, decoded from the buffer, when all of it is there already and
   * no read is in progress; undefined otherwise (nothing is taken then).
   */
  bufferedText(decoder: TextDecoder): string | undefined {
    const reader = this.#reader;
    if (reader.reading || reader.available < this.#remaining) return undefined;
    const text = reader.takeText(this.#remaining, decoder);
    this.#remaining = 0;
    return text;
  }

  async next(): Promise<Uint8Array<ArrayBuffer> | null> {
    if (this.#remaining === 0) return null;
    const reader = this.#reader;
    if (reader.available === 0 && !(await reader.fill())) {
      throw new HttpWireError(400, "Cannot read the body: the connection closed before its end");
    }
    const n = Math.min(reader.available, this.#remaining);
    this.#remaining -= n;
    return reader.take(n);
  }
}

const CHUNK_SIZE = /^([0-9A-Fa-f]{1,13})[ \t]*(;.*)?$/;

/** A body in the chunked transfer coding (RFC 9112 §7.1); trailer fields are read and dropped. */
export class ChunkedBody implements BodyReader {
  readonly #reader: ByteReader;
  readonly #maxLine: number;
  readonly #maxTrailer: number;
  readonly #strict: boolean;
  #remaining = 0;
  #done = false;

  constructor(
    reader: ByteReader,
    limits: { maxLine: number; maxTrailer: number; strict: boolean },
  ) {
    this.#reader = reader;
    this.#maxLine = limits.maxLine;
    this.#maxTrailer = limits.maxTrailer;
    this.#strict = limits.strict;
  }

  get done(): boolean {
    return this.#done;
  }

  async next(): Promise<Uint8Array<ArrayBuffer> | null> {
    if (this.#done) return null;
    const reader = this.#reader;
    if (this.#remaining === 0) {
      const line = await reader.readLine(this.#maxLine, this.#strict);
      const size = CHUNK_SIZE.exec(line);
      if (size === null) {
        throw new HttpWireError(400, `Cannot parse a chunk: size line ${quoteBytes(line)}`);
      }
      this.#remaining = parseInt(size[1]!, 16);
      if (this.#remaining === 0) {
        await this.#skipTrailer();
        this.#done = true;
        return null;
      }
    }
    if (reader.available === 0 && !(await reader.fill())) {
      throw new HttpWireError(400, "Cannot read the body: the connection closed inside a chunk");
    }
    const n = Math.min(reader.available, this.#remaining);
    const data = reader.take(n);
    this.#remaining -= n;
    if (this.#remaining === 0) {
      const end = await reader.readLine(2, this.#strict);
      if (end !== "") {
        throw new HttpWireError(400, "Cannot parse a chunk: data longer than its size");
      }
    }
    return data;
  }

  async #skipTrailer(): Promise<void> {
    let total = 0;
    for (;;) {
      const line = await this.#reader.readLine(this.#maxTrailer, this.#strict);
      if (line === "") return;
      total += line.length + 2;
      if (total > this.#maxTrailer) {
        throw new HttpWireError(431, `Cannot read the trailer: over ${this.#maxTrailer} bytes`);
      }
    }
  }
}

/** A body that ends when the peer closes the connection (an answer without a length). */
export class CloseDelimitedBody implements BodyReader {
  readonly #reader: ByteReader;
  #done = false;

  constructor(reader: ByteReader) {
    this.#reader = reader;
  }

  get done(): boolean {
    return this.#done;
  }

  async next(): Promise<Uint8Array<ArrayBuffer> | null> {
    const reader = this.#reader;
    if (this.#done) return null;
    if (reader.available === 0 && !(await reader.fill())) {
      this.#done = true;
      return null;
    }
    return reader.take(reader.available);
  }
}

/** Reads a whole body of at most `limit` bytes into one array. */
export async function readAll(body: BodyReader, limit: number): Promise<Uint8Array> {
  if (body instanceof LengthBody) return await body.all(limit);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let part = await body.next(); part !== null; part = await body.next()) {
    size += part.length;
    if (size > limit) throw new RangeError(`Cannot read the body: more than ${limit} bytes`);
    parts.push(part);
  }
  return concatBytes(parts, size);
}
