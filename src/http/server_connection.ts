/**
 * One downstream connection of the HTTP/1.1 server: reads request heads, hands each request to
 * the handler, writes the answers in order (pipelined requests wait in the buffer), and notices
 * a client that went away (its request's `signal` aborts and a streamed answer is cancelled).
 */
import type { Logger } from "../log.ts";
import { ByteReader, type HeadLimits, HttpWireError, writeLatin1 } from "./http1.ts";
import { type BodyReader, ChunkedBody, LengthBody } from "./http1_body.ts";
import { clientGone, type IncomingBody, IncomingRequest } from "./incoming_request.ts";
import type { Handler, RequestInfo } from "./router.ts";
import { PreparedAnswer } from "./prepared.ts";
import { parseRequestHead, type RequestHead } from "./server_request.ts";
import {
  chunkOf,
  CONTINUE,
  hasNoBody,
  LAST_CHUNK,
  plainResponse,
  preparedHead,
  responseHead,
} from "./server_response.ts";

/** Timeouts and sizes of the server, in milliseconds and bytes. */
export interface ServerLimits {
  /** A request head must be complete this long after its first byte (or the connection's start). */
  headerTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this long. */
  idleTimeoutMs: number;
  /** Open connections beyond this are refused with 503. */
  maxConnections: number;
  /** The largest header section of a request. */
  maxHeaderBytes: number;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly handler: Handler;
  readonly limits: ServerLimits;
  readonly log: Logger;
  /** The server's clock (ms), advanced by its sweep. */
  readonly now: number;
  /** The `Date` field value, advanced by the sweep. */
  readonly date: string;
  /** The server is shutting down: finish the request in progress, then close. */
  readonly closing: boolean;
  /** Called once when the connection is closed. */
  closed(connection: ServerConnection): void;
}

/** Where a connection is: waiting for a head, idle between requests, serving one, or closing. */
export type Phase = "head" | "idle" | "busy" | "closing";

const MAX_REQUEST_LINE = 8192;
/** Pipelined bytes read ahead while a request is served; beyond this the client waits. */
const READ_AHEAD = 4096;
const MAX_OUT = 65_536;
/** Room left before a prepared body encoded into the buffer, for the head written in front of it. */
const HEAD_ROOM = 1024;
const encoder = new TextEncoder();

/** One accepted connection; {@link serve} runs it until it closes. */
export class ServerConnection {
  /** Where the connection is; the server's sweep reads it with {@link deadline}. */
  phase: Phase = "head";
  /** When the current phase times out, on the server's clock. */
  deadline: number;
  readonly #conn: Deno.Conn;
  readonly #host: ConnectionHost;
  readonly #reader: ByteReader;
  readonly #head: HeadLimits;
  readonly #info: RequestInfo;
  readonly #base: string;
  #out = new Uint8Array(4096);
  #closed = false;
  #gone = false;
  #request: IncomingRequest | undefined;
  #body: BodyReader | undefined;
  #continue = false;
  #stream: ReadableStreamDefaultReader<Uint8Array | string> | undefined;
  readonly #onRead = (more: boolean) => {
    if (!more) this.#peerGone();
    else if (this.phase === "busy") this.#watch();
  };
  readonly #onReadError = () => this.#peerGone();
  /** The source of streamed request bodies (one per connection, as bodies are read in turn). */
  readonly #source: UnderlyingDefaultSource<Uint8Array<ArrayBuffer>> = {
    pull: (controller) => this.#pullBody(controller),
  };

  constructor(conn: Deno.Conn, host: ConnectionHost) {
    this.#conn = conn;
    this.#host = host;
    const { maxHeaderBytes, headerTimeoutMs } = host.limits;
    this.#head = { maxLine: MAX_REQUEST_LINE, maxFields: maxHeaderBytes, strict: true };
    this.#reader = new ByteReader(conn, 8192, MAX_REQUEST_LINE + maxHeaderBytes + 1024);
    this.deadline = host.now + headerTimeoutMs;
    const local = conn.localAddr as Deno.NetAddr;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.#base = `http://${bracketed(local.hostname)}:${local.port}`;
    this.#info = { remoteAddr: `${remote.hostname}:${remote.port}` };
  }

  /** Serves requests until the client leaves, a request asks to close, or a limit is hit. */
  async serve(): Promise<void> {
    try {
      while (await this.#next());
    } catch (error) {
      if (!this.#closed) this.#host.log.debug("connection failed", { error });
    } finally {
      this.close();
    }
  }

  /** Whether unread bytes (a started or pipelined request) are buffered. */
  get hasBytes(): boolean {
    return this.#reader.available > 0;
  }

  /** Times out: a half-sent head gets 408, an idle connection is closed. */
  expire(): void {
    if (this.phase === "head") {
      this.#sendAndClose(408, "Request Timeout: the request head did not arrive in time");
    } else this.close();
  }

  /** Closes the connection unless a request is being served. */
  closeIfIdle(): void {
    if (this.phase !== "busy") this.close();
  }

  /** Closes the socket; an unfinished request is abandoned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.phase = "closing";
    this.#peerGone();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset.
    }
    this.#host.closed(this);
  }

  /** Serves one request; false when the connection must close. */
  async #next(): Promise<boolean> {
    let head: RequestHead;
    let req: IncomingRequest;
    try {
      const text = await this.#reader.readHead(this.#head);
      if (text === null) return false;
      this.phase = "busy";
      head = parseRequestHead(text);
      req = this.#request = this.#makeRequest(head);
    } catch (error) {
      if (!(error instanceof HttpWireError) || this.#closed) throw error;
      await this.#refuse(error.status, error.message);
      return false;
    }
    let res: Response;
    try {
      res = await this.#host.handler(req, this.#info);
      if (!(res instanceof Response)) throw new TypeError("the handler did not return a Response");
    } catch (error) {
      this.#host.log.error("request handler failed", { error });
      res = new Response("Internal Server Error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const keep = await this.#respond(head, res);
    this.#request = undefined;
    if (!keep || this.#host.closing || this.#closed) return false;
    const pipelined = this.#reader.available > 0;
    this.phase = pipelined ? "head" : "idle";
    const { headerTimeoutMs, idleTimeoutMs } = this.#host.limits;
    this.deadline = this.#host.now + (pipelined ? headerTimeoutMs : idleTimeoutMs);
    return true;
  }

  #makeRequest(head: RequestHead): IncomingRequest {
    const { method } = head;
    const reader = this.#reader;
    this.#body = undefined;
    this.#continue = false;
    let body: IncomingBody;
    if (head.body === 0) {
      // No body.
    } else if (method === "GET" || method === "HEAD") {
      // A body has no meaning here; drop it, or the connection when it is not all here yet.
      if (typeof head.body === "number" && reader.available >= head.body) reader.start += head.body;
      else head.keepAlive = false;
    } else if (typeof head.body === "number" && reader.available >= head.body) {
      body = reader.take(head.body);
    } else {
      this.#body = head.body === "chunked"
        ? new ChunkedBody(reader, { maxLine: 1024, maxTrailer: this.#head.maxFields, strict: true })
        : new LengthBody(reader, head.body);
      this.#continue = head.expectContinue && reader.available === 0;
      body = this.#source;
    }
    const req = new IncomingRequest(method, this.#base, head.path, head.names, head.values, body);
    if (this.#body === undefined) this.#watch();
    return req;
  }

  async #pullBody(
    controller: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>,
  ): Promise<void> {
    const body = this.#body!;
    try {
      if (this.#continue) {
        this.#continue = false;
        await this.#write(CONTINUE);
      }
      const chunk = await body.next();
      if (chunk !== null) return controller.enqueue(chunk);
      controller.close();
      this.#watch();
    } catch (error) {
      controller.error(error);
    }
  }

  /** Keeps a read pending while a request is served, to notice a client that leaves. */
  #watch(): void {
    const reader = this.#reader;
    if (reader.reading || reader.eof || reader.available > READ_AHEAD) return;
    reader.fill().then(this.#onRead, this.#onReadError);
  }

  #peerGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#request?.abandon();
    this.#stream?.cancel(clientGone()).catch(() => {});
  }

  /** Writes the answer; false when the connection must close after it. */
  async #respond(request: RequestHead, res: Response): Promise<boolean> {
    const unread = this.#body !== undefined && !this.#body.done;
    const close = !request.keepAlive || unread || this.#host.closing || this.#gone;
    if (res instanceof PreparedAnswer && !hasNoBody(request.method, res.status)) {
      await this.#writePrepared(res, close);
      return !close;
    }
    const head = responseHead(res, this.#host.date, close);
    if (hasNoBody(request.method, res.status)) {
      if (res.body !== null) await res.body.cancel();
      await this.#writeWhole(head.text, undefined);
      return !close;
    }
    if (head.stream) return await this.#writeStream(res, head.text, request.http10 || close);
    await this.#writeWhole(head.text, await res.bytes());
    return !close;
  }

  /** Writes a head and a complete body (with its length) in one write when they fit. */
  #writeWhole(head: string, body: Uint8Array | undefined): Promise<void> {
    const text = body === undefined
      ? `${head}\r\n`
      : `${head}content-length: ${body.length}\r\n\r\n`;
    const size = text.length + (body?.length ?? 0);
    if (size > this.#out.length && size <= MAX_OUT) {
      this.#out = new Uint8Array(Math.max(size, this.#out.length * 2));
    }
    if (size <= this.#out.length) {
      writeLatin1(text, this.#out, 0);
      if (body !== undefined) this.#out.set(body, text.length);
      return this.#write(this.#out.subarray(0, size));
    }
    const bytes = new Uint8Array(text.length);
    writeLatin1(text, bytes, 0);
    return this.#write(bytes).then(() => this.#write(body!));
  }

  /**
   * Writes a prepared JSON answer in one write: the text is encoded straight into the buffer,
   * after room for the head, which is written in front of it once the length is known.
   */
  #writePrepared(answer: PreparedAnswer, close: boolean): Promise<void> {
    const head = preparedHead(answer, this.#host.date, close);
    const end = HEAD_ROOM + answer.bodyText.length * 3;
    if (end > MAX_OUT) return this.#writeWhole(head, encoder.encode(answer.bodyText));
    if (end > this.#out.length) this.#out = new Uint8Array(Math.max(end, this.#out.length * 2));
    const { written } = encoder.encodeInto(answer.bodyText, this.#out.subarray(HEAD_ROOM));
    const text = `${head}content-length: ${written}\r\n\r\n`;
    if (text.length > HEAD_ROOM) {
      return this.#writeWhole(head, this.#out.slice(HEAD_ROOM, HEAD_ROOM + written));
    }
    const start = HEAD_ROOM - text.length;
    writeLatin1(text, this.#out, start);
    return this.#write(this.#out.subarray(start, HEAD_ROOM + written));
  }

  /** Streams an event stream, each chunk as soon as it is produced; false: close after it. */
  async #writeStream(res: Response, head: string, close: boolean): Promise<boolean> {
    const reader = this.#stream = res.body!.getReader();
    const chunked = !close;
    if (close && !head.endsWith("connection: close\r\n")) head += "connection: close\r\n";
    try {
      await this.#writeWhole(chunked ? `${head}transfer-encoding: chunked\r\n` : head, undefined);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const data = typeof value === "string" ? encoder.encode(value) : value;
        if (data.length > 0) await this.#write(chunked ? chunkOf(data) : data);
      }
      if (this.#gone) return false;
      if (chunked) await this.#write(LAST_CHUNK);
      return chunked;
    } catch (error) {
      reader.cancel(error).catch(() => {});
      throw error;
    } finally {
      this.#stream = undefined;
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let written = await this.#conn.write(bytes);
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Answers a request the server itself refuses, then closes. */
  async #refuse(status: number, message: string): Promise<void> {
    this.phase = "closing";
    this.deadline = this.#host.now + this.#host.limits.headerTimeoutMs;
    await this.#write(plainResponse(status, message, this.#host.date)).catch(() => {});
  }

  #sendAndClose(status: number, message: string): void {
    this.#refuse(status, message).finally(() => this.close());
  }
}

function bracketed(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
