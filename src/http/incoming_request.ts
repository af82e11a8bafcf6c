/**
 * A request as the server read it off the wire, shaped like `Request`. Its headers, body stream
 * and signal are built only when a handler asks for them: the `Request` constructor (a WebIDL
 * dictionary conversion, a URL parse, a new AbortSignal) costs more than the rest of serving a
 * small request, which is why `Deno.serve` builds its requests lazily too. It is not an
 * `instanceof Request`; `clone()` gives a real one.
 */

import { FieldHeaders } from "./field_headers.ts";

const decoder = new TextDecoder();

/** The body of an {@link IncomingRequest}: complete bytes, or a source read on demand. */
export type IncomingBody =
  | Uint8Array<ArrayBuffer>
  | UnderlyingDefaultSource<Uint8Array<ArrayBuffer>>
  | undefined;

/** A request read by the server; `abandon()` aborts its `signal` when the client leaves. */
export class IncomingRequest implements Request {
  readonly method: string;
  readonly url: string;
  readonly cache: RequestCache = "default";
  readonly credentials: RequestCredentials = "same-origin";
  readonly destination: RequestDestination = "";
  readonly integrity = "";
  readonly isHistoryNavigation = false;
  readonly isReloadNavigation = false;
  readonly keepalive = false;
  readonly mode: RequestMode = "cors";
  readonly redirect: RequestRedirect = "follow";
  readonly referrer = "about:client";
  readonly referrerPolicy: ReferrerPolicy = "";
  readonly #names: string[];
  readonly #values: string[];
  #headers: Headers | undefined;
  #body: IncomingBody;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
  #used = false;
  #controller: AbortController | undefined;
  #gone = false;

  /** The request target's path and query, as the server read it (the end of `url`). */
  readonly target: string;

  constructor(
    method: string,
    origin: string,
    target: string,
    names: string[],
    values: string[],
    body: IncomingBody,
  ) {
    this.method = method;
    this.url = origin + target;
    this.target = target;
    this.#names = names;
    this.#values = values;
    this.#body = body;
  }

  get headers(): Headers {
    return this.#headers ??= new FieldHeaders(this.#names, this.#values);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort(clientGone());
    }
    return this.#controller.signal;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    const body = this.#body;
    if (body === undefined) return null;
    if (this.#stream !== undefined) return this.#stream;
    if (body instanceof Uint8Array) {
      return this.#stream = new ReadableStream({
        start(controller) {
          controller.enqueue(body);
          controller.close();
        },
      });
    }
    return this.#stream = new ReadableStream(body, { highWaterMark: 0 });
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#stream?.locked ?? false);
  }

  /** The whole body, when it arrived with the head and nobody read it yet; it counts as read. */
  received(): Uint8Array<ArrayBuffer> | undefined {
    const body = this.#body;
    if (!(body instanceof Uint8Array) || this.bodyUsed) return undefined;
    this.#used = true;
    return body;
  }

  /** The client closed the connection before the answer was complete: `signal` aborts. */
  abandon(): void {
    this.#gone = true;
    this.#controller?.abort(clientGone());
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.bodyUsed) throw new TypeError("Cannot read the body: it was already read");
    this.#used = true;
    const body = this.#body;
    if (body === undefined) return new Uint8Array(0);
    if (body instanceof Uint8Array && this.#stream === undefined) return body;
    return await new Response(this.body).bytes();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.slice().buffer;
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  blob(): Promise<Blob> {
    return this.#asResponse().blob();
  }

  formData(): Promise<FormData> {
    return this.#asResponse().formData();
  }

  textStream(): ReadableStream<string> {
    return (this.body ?? new ReadableStream({ start: (c) => c.close() })).pipeThrough(
      new TextDecoderStream(),
    );
  }

  /** A real `Request` with the same method, URL, headers and (teed) body. */
  clone(): Request {
    let body: BodyInit | null = null;
    const stream = this.body;
    if (stream !== null) {
      const [mine, theirs] = stream.tee();
      this.#stream = mine;
      body = theirs;
    }
    return new Request(this.url, { method: this.method, headers: this.headers, body });
  }

  #asResponse(): Response {
    this.#used = true;
    const type = this.headers.get("content-type");
    return new Response(this.body, type === null ? {} : { headers: { "content-type": type } });
  }
}

/** The abort reason when a client closed its connection before its answer was complete. */
export function clientGone(): DOMException {
  return new DOMException("The client closed the connection", "AbortError");
}
