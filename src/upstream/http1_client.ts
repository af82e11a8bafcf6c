/**
 * A pooled HTTP/1.1 client for one upstream origin on `Deno.connect`/`Deno.connectTls`, made for
 * MCP calls: kept-alive connections, each request written in one `write`, answers read straight
 * from the socket (no web streams), cancellation by `AbortSignal` (the socket is closed). An idle
 * connection keeps a read pending, so one the upstream closed is dropped before it is reused.
 */
import { FieldHeaders } from "../http/field_headers.ts";
import { HttpWireError, parseHead, quoteBytes } from "../http/http1.ts";
import {
  type BodyReader,
  ChunkedBody,
  CloseDelimitedBody,
  contentLengthOf,
  LengthBody,
  readAll,
} from "../http/http1_body.ts";
import { deadlines } from "./deadlines.ts";
import { ANSWER_HEAD, Connection, connectTo, NotHttp1Error } from "./http1_connection.ts";

/** Opens a connection to the upstream (tests substitute the wire here). */
export type Connector = (signal: AbortSignal) => Promise<Deno.Conn>;

/** Options of {@link Http1Client}. */
export interface Http1ClientOptions {
  /** The upstream's URL: its origin is where connections go, its path and query the target. */
  url: URL;
  /** Root certificates trusted besides the default ones, for https (`tls_ca_file`). */
  caCerts?: string[];
  /** Opens connections; `Deno.connect`/`Deno.connectTls` by default. */
  connect?: Connector;
}

const MAX_IDLE = 64;
/** A connection idle this long is closed: servers drop idle ones after about 5 s. */
const MAX_IDLE_MS = 4000;
/** The largest answer body read into memory. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

/** A kept-alive connection the upstream closed before (or as) it was reused. */
class StaleConnectionError extends Error {
  override name = "StaleConnectionError";
}

/** An answer whose body is read piece by piece; the connection goes back to the pool at its end. */
export class Http1Response {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly #body: BodyReader;
  readonly #release: (reusable: boolean) => void;
  readonly #reusable: boolean;
  #settled = false;

  constructor(
    status: number,
    statusText: string,
    headers: Headers,
    body: BodyReader,
    reusable: boolean,
    release: (reusable: boolean) => void,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.#body = body;
    this.#reusable = reusable;
    this.#release = release;
  }

  /** The next piece of the body; null at its end. */
  async next(): Promise<Uint8Array | null> {
    try {
      const part = await this.#body.next();
      if (part === null) this.#settle(true);
      return part;
    } catch (error) {
      this.#settle(false);
      throw error;
    }
  }

  /** The whole body (at most {@link MAX_ANSWER_BYTES}). */
  async bytes(): Promise<Uint8Array> {
    try {
      const bytes = await readAll(this.#body, MAX_ANSWER_BYTES);
      this.#settle(true);
      return bytes;
    } catch (error) {
      this.#settle(false);
      throw error;
    }
  }

  /**
   * The whole body as text when it is all buffered already (a small answer arrives with its
   * head): no promise, no copy. Undefined when it must be read ({@link bytes}).
   */
  bufferedText(decoder: TextDecoder): string | undefined {
    if (!(this.#body instanceof LengthBody) || this.#settled) return undefined;
    const text = this.#body.bufferedText(decoder);
    if (text !== undefined) this.#settle(true);
    return text;
  }

  /** Drops the rest of the body: the connection is reused if the body was complete, else closed. */
  cancel(): void {
    this.#settle(this.#body.done);
  }

  #settle(complete: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#release(complete && this.#reusable);
  }
}

/** Kept-alive HTTP/1.1 connections to one origin. */
export class Http1Client {
  /** What follows the method in every request: target, version and `Host`. */
  readonly #target: string;
  readonly #connect: Connector;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  #closed = false;

  constructor(options: Http1ClientOptions) {
    const { url } = options;
    this.#target = ` ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    this.#connect = options.connect ??
      ((signal) => connectTo(options.url, options.caCerts, signal));
  }

  /** Open connections (idle and busy). */
  get connections(): number {
    return this.#all.size;
  }

  /**
   * Sends one request (`headers` is ready header lines, each ending in CRLF) and resolves with
   * the answer's head; `signal` aborting closes the connection. A request on a kept-alive
   * connection the upstream had closed is sent again on a new one when it could not have been
   * processed (the write failed, or it is a GET or DELETE).
   */
  async request(
    method: string,
    headers: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Http1Response> {
    const head = `${method}${this.#target}${headers}`;
    for (;;) {
      signal.throwIfAborted();
      let connection: Connection;
      try {
        connection = this.#takeIdle() ?? (await this.#open(signal));
      } catch (error) {
        throw signal.aborted ? signal.reason : error;
      }
      try {
        return await this.#exchange(connection, method, head, body, signal);
      } catch (error) {
        connection.destroy();
        this.#all.delete(connection);
        if (signal.aborted) throw signal.reason;
        if (error instanceof StaleConnectionError) continue;
        throw error;
      }
    }
  }

  /** Closes every connection; requests in progress fail. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#all) connection.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  async #exchange(
    connection: Connection,
    method: string,
    head: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Http1Response> {
    connection.watch(signal);
    signal.throwIfAborted();
    const idempotent = method === "GET" || method === "DELETE";
    try {
      await connection.send(head, body);
    } catch (error) {
      if (connection.reused) throw new StaleConnectionError("the upstream closed the connection");
      throw error;
    }
    for (;;) {
      let text: string | null;
      try {
        text = await connection.reader.readHead(ANSWER_HEAD);
      } catch (error) {
        const nothing = connection.reader.available === 0 && !(error instanceof HttpWireError);
        if (connection.reused && idempotent && nothing) throw new StaleConnectionError("reset");
        throw error;
      }
      if (text === null) {
        if (connection.reused && idempotent) throw new StaleConnectionError("closed");
        throw new HttpWireError(502, "Cannot read the answer: the upstream closed the connection");
      }
      const { startLine, names, values } = parseHead(text);
      const status = STATUS_LINE.exec(startLine);
      if (status === null) {
        throw new NotHttp1Error(`the upstream answered ${quoteBytes(startLine)}, not HTTP/1.1`);
      }
      const code = Number(status[2]);
      // Interim answers (100 Continue, 103 Early Hints) precede the real one.
      if (code < 200) continue;
      return this.#answer(connection, method, status, code, names, values);
    }
  }

  #answer(
    connection: Connection,
    method: string,
    status: RegExpExecArray,
    code: number,
    names: string[],
    values: string[],
  ): Http1Response {
    const headers = new FieldHeaders(names, values);
    const connectionField = headers.get("connection");
    let reusable = status[1] === "1" &&
      (connectionField === null || !/(?:^|,)\s*close\s*(?:,|$)/i.test(connectionField));
    let body: BodyReader;
    const coding = headers.get("transfer-encoding");
    if (method === "HEAD" || code === 204 || code === 304) {
      body = new LengthBody(connection.reader, 0);
    } else if (coding !== null) {
      if (/(?:^|,)\s*chunked\s*$/i.test(coding)) {
        body = new ChunkedBody(connection.reader, {
          maxLine: 4096,
          maxTrailer: 65_536,
          strict: false,
        });
      } else {
        body = new CloseDelimitedBody(connection.reader);
        reusable = false;
      }
    } else {
      let lengths: string[] | undefined;
      for (let i = 0; i < names.length; i++) {
        if (names[i] === "content-length") (lengths ??= []).push(values[i]!);
      }
      const length = lengths === undefined ? undefined : contentLengthOf(lengths);
      if (length === undefined) {
        body = new CloseDelimitedBody(connection.reader);
        reusable = false;
      } else body = new LengthBody(connection.reader, length);
    }
    return new Http1Response(
      code,
      status[3] ?? "",
      headers,
      body,
      reusable,
      (keep) => this.#release(connection, keep),
    );
  }

  #takeIdle(): Connection | undefined {
    const connection = this.#idle.pop();
    if (connection !== undefined) deadlines.delete(connection);
    return connection;
  }

  async #open(signal: AbortSignal): Promise<Connection> {
    if (this.#closed) throw new Error("Cannot connect: the client is closed");
    const connection = new Connection(await this.#connect(signal));
    connection.fire = () => this.#drop(connection);
    this.#all.add(connection);
    return connection;
  }

  #release(connection: Connection, reusable: boolean): void {
    connection.unwatch();
    if (!reusable || this.#closed || connection.closed || this.#idle.length >= MAX_IDLE) {
      connection.destroy();
      this.#all.delete(connection);
      return;
    }
    connection.reused = true;
    connection.at = Date.now() + MAX_IDLE_MS;
    deadlines.add(connection);
    this.#idle.push(connection);
    this.#watchIdle(connection);
  }

  /** A read kept pending on an idle connection: EOF or unasked-for bytes drop it from the pool. */
  #watchIdle(connection: Connection): void {
    const reader = connection.reader;
    if (reader.available > 0) return this.#drop(connection);
    const check = (more: boolean) => {
      if (!this.#idle.includes(connection)) return;
      if (!more || reader.available > 0) this.#drop(connection);
    };
    reader.fill().then(check, () => this.#drop(connection));
  }

  #drop(connection: Connection): void {
    const at = this.#idle.indexOf(connection);
    if (at !== -1) this.#idle.splice(at, 1);
    connection.destroy();
    this.#all.delete(connection);
  }
}
