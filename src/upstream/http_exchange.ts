/**
 * How an HTTP transport exchanges requests with its upstream: the native pooled HTTP/1.1 client
 * ({@link Http1Client}), or `fetch` for what it does not cover (a proxy, an injected `fetch`, an
 * upstream that speaks only HTTP/2). Both give the same {@link UpstreamAnswer}, whose events are
 * decoded without web streams. Neither follows redirects: they would carry the configured
 * credentials wherever they point.
 */
import { isHeaderName } from "../config/net.ts";
import { SseDecoder, type SseEvent } from "../http/sse.ts";
import type { Logger } from "../log.ts";
import { type Connector, Http1Client, type Http1Response } from "./http1_client.ts";
import { NotHttp1Error } from "./http1_connection.ts";
import type { FetchLike } from "./transport.ts";

/** Which client an upstream uses, as shown in `/health`. */
export interface HttpClientStatus {
  mode: "native" | "fetch";
  /** Why `fetch` is used. */
  reason?: string;
}

/** The native client with its TLS roots, or `fetch` and why. */
export type HttpClientChoice =
  | { mode: "native"; caCerts?: string[]; connect?: Connector }
  | { mode: "fetch"; reason: string };

/** The events of an SSE body, one at a time. */
export interface SseReader {
  /** The next event; undefined at the end of the body. */
  next(): Promise<SseEvent | undefined>;
  /** Stops reading; the connection is closed. */
  cancel(): void;
}

/** One HTTP answer from an upstream. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The body as events. */
  events(): SseReader;
  /** Drops the body. */
  discard(): Promise<void>;
}

/** Sends requests to one upstream URL. */
export interface UpstreamHttp {
  readonly status: HttpClientStatus;
  send(
    method: "POST" | "GET" | "DELETE",
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<UpstreamAnswer>;
  /** Closes kept-alive connections. */
  close(): void;
}

const utf8 = new TextDecoder();

/** A source of body pieces: null at the end. */
interface Pieces {
  next(): Promise<Uint8Array | null>;
  cancel(): void;
}

/** SSE events decoded from body pieces as they arrive (CR/LF split across pieces included). */
class EventReader implements SseReader {
  readonly #pieces: Pieces;
  readonly #text = new TextDecoder();
  readonly #decoder = new SseDecoder();
  readonly #queue: SseEvent[] = [];
  readonly #emit = (event: SseEvent) => void this.#queue.push(event);
  #ended = false;

  constructor(pieces: Pieces) {
    this.#pieces = pieces;
  }

  async next(): Promise<SseEvent | undefined> {
    while (this.#queue.length === 0) {
      if (this.#ended) return undefined;
      const piece = await this.#pieces.next();
      if (piece === null) {
        this.#ended = true;
        this.#decoder.push(this.#text.decode(), this.#emit);
        this.#decoder.end(this.#emit);
      } else this.#decoder.push(this.#text.decode(piece, { stream: true }), this.#emit);
    }
    return this.#queue.shift();
  }

  cancel(): void {
    this.#ended = true;
    this.#pieces.cancel();
  }
}

/** What both kinds of answer share: the status line and headers. */
abstract class Answer implements UpstreamAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;

  constructor(head: { status: number; statusText: string; headers: Headers }) {
    this.status = head.status;
    this.statusText = head.statusText;
    this.headers = head.headers;
  }

  abstract text(): Promise<string>;
  abstract events(): SseReader;
  abstract discard(): Promise<void>;
}

/** An answer read through `fetch`. */
class FetchAnswer extends Answer {
  readonly #res: Response;

  constructor(res: Response) {
    super(res);
    this.#res = res;
  }

  text(): Promise<string> {
    return this.#res.text();
  }

  events(): SseReader {
    const reader = this.#res.body!.getReader();
    return new EventReader({
      next: async () => {
        const { value, done } = await reader.read();
        return done ? null : value;
      },
      cancel: () => void reader.cancel().catch(() => {}),
    });
  }

  async discard(): Promise<void> {
    await this.#res.body?.cancel();
  }
}

/** An answer read by the native client. */
class NativeAnswer extends Answer {
  readonly #res: Http1Response;

  constructor(res: Http1Response) {
    super(res);
    this.#res = res;
  }

  text(): Promise<string> {
    const text = this.#res.bufferedText(utf8);
    return text === undefined ? this.#read() : Promise.resolve(text);
  }

  async #read(): Promise<string> {
    return utf8.decode(await this.#res.bytes());
  }

  events(): SseReader {
    return new EventReader(this.#res);
  }

  discard(): Promise<void> {
    this.#res.cancel();
    return Promise.resolve();
  }
}

/**
 * Requests through the native client, or through `fetch` (redirects not followed). An upstream
 * that turns out not to speak HTTP/1.1 is served through `fetch` from then on: nothing was
 * processed, as the failure comes before the request is read.
 */
class ChosenHttp implements UpstreamHttp {
  #status: HttpClientStatus;
  #client: Http1Client | undefined;
  readonly #url: string;
  readonly #fetch: FetchLike;
  readonly #log: Logger;
  #lastHeaders: Record<string, string> | undefined;
  #lastBlock = "";

  constructor(options: UpstreamHttpOptions, client: Http1Client | undefined) {
    this.#url = options.url;
    this.#fetch = options.fetch;
    this.#log = options.log;
    this.#client = client;
    this.#status = options.choice.mode === "native"
      ? { mode: "native" }
      : { mode: "fetch", reason: options.choice.reason };
  }

  get status(): HttpClientStatus {
    return this.#status;
  }

  async send(
    method: "POST" | "GET" | "DELETE",
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<UpstreamAnswer> {
    if (this.#client !== undefined) {
      try {
        return new NativeAnswer(
          await this.#client.request(method, this.#block(headers), body, signal),
        );
      } catch (error) {
        if (!(error instanceof NotHttp1Error)) throw error;
        this.#status = { mode: "fetch", reason: error.message };
        this.#log.info("upstream does not speak HTTP/1.1; using fetch", { reason: error.message });
        this.#client.close();
        this.#client = undefined;
      }
    }
    const init: RequestInit = { method, headers, signal, redirect: "manual" };
    if (body !== undefined) init.body = body;
    return new FetchAnswer(await this.#fetch(this.#url, init));
  }

  close(): void {
    this.#client?.close();
  }

  /** Header lines of `headers`, checked; the last block is kept, as POST headers rarely change. */
  #block(headers: Record<string, string>): string {
    if (headers === this.#lastHeaders) return this.#lastBlock;
    this.#lastHeaders = headers;
    return this.#lastBlock = headerBlock(headers);
  }
}

const BAD_VALUE = /[\0\r\n]|[^\0-\xff]/;

/** Header lines (`name: value\r\n`) of a record; names must be tokens and values one line of latin1. */
export function headerBlock(headers: Record<string, string>): string {
  let block = "";
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderName(name) || BAD_VALUE.test(value)) {
      throw new TypeError(`Cannot send header '${name}': not a valid header name and value`);
    }
    block += `${name}: ${value}\r\n`;
  }
  return block;
}

/** Options of {@link createUpstreamHttp}. */
export interface UpstreamHttpOptions {
  url: string;
  choice: HttpClientChoice;
  /** The `fetch` of the fallback (and of `choice.mode: "fetch"`). */
  fetch: FetchLike;
  log: Logger;
}

/** The client of one upstream, as chosen. */
export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const { choice } = options;
  const client = choice.mode === "fetch" ? undefined : new Http1Client({
    url: new URL(options.url),
    ...(choice.caCerts === undefined ? {} : { caCerts: choice.caCerts }),
    ...(choice.connect === undefined ? {} : { connect: choice.connect }),
  });
  return new ChosenHttp(options, client);
}
