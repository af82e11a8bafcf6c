/** A server-sent event stream the gateway writes JSON-RPC messages into. */
import { encodeSseMessage } from "../http/sse.ts";

const encoder = new TextEncoder();
const DEFAULT_BUFFER_BYTES = 1_048_576;

/** Headers of every SSE answer. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};

/** Options of {@link SseChannel}. */
export interface SseChannelOptions {
  keepAliveMs?: number;
  onClose?: () => void;
  /**
   * Bytes that may wait for a client that does not read, besides one message larger than that
   * (which waits until the client reads it). Past that the client is too slow.
   */
  bufferBytes?: number;
  /**
   * Called instead of closing when a message does not fit (an answer stream ends with an error
   * the client can read, via {@link SseChannel.sendLast}).
   */
  onOverflow?: () => void;
}

/**
 * A writable SSE stream with a keep-alive comment while idle. Nothing written is dropped
 * silently: a message either waits in the buffer, or the client is too slow and the stream ends
 * (`slowClient`), or, for the last message (an answer), it is always queued.
 */
export class SseChannel {
  /** The body to answer with. */
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** Set when the stream was closed because the client did not read fast enough. */
  slowClient = false;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  readonly #onClose: (() => void) | undefined;
  readonly #onOverflow: (() => void) | undefined;
  readonly #limit: number;
  /** Size of the one message over the limit that may be queued (0: none). */
  #oversized = 0;

  constructor(options: SseChannelOptions = {}) {
    this.#onClose = options.onClose;
    this.#onOverflow = options.onOverflow;
    this.#limit = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => this.#finish(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.#limit }),
    );
    if (options.keepAliveMs) {
      this.#keepAlive = setInterval(() => this.#write(": keepalive\n\n"), options.keepAliveMs);
    }
  }

  /** Whether the stream has ended (closed by us or by the client). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes one JSON-RPC message as an event (with an event id, for a client to resume after it);
   * false when the stream is gone or the client too slow.
   */
  send(json: string, id?: string): boolean {
    return this.#write(encodeSseMessage(json, id));
  }

  /** Writes the last message whatever the buffer holds, then ends the stream once it is read. */
  sendLast(json: string): boolean {
    const sent = this.#write(encodeSseMessage(json), true);
    this.close();
    return sent;
  }

  /** Ends the stream (what is queued is still delivered). */
  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // Already errored or cancelled by the client.
    }
    this.#finish();
  }

  #write(text: string, last = false): boolean {
    if (this.#closed) return false;
    const bytes = encoder.encode(text);
    const queued = this.#limit - (this.#controller.desiredSize ?? 0);
    // The queue holds less than the oversized message: the client has read it.
    if (this.#oversized > queued) this.#oversized = 0;
    if (!last) {
      if (bytes.byteLength > this.#limit) {
        if (this.#oversized > 0) return this.#overflow();
        this.#oversized = bytes.byteLength;
      } else if (queued - this.#oversized + bytes.byteLength > this.#limit) {
        return this.#overflow();
      }
    }
    try {
      this.#controller.enqueue(bytes);
      return true;
    } catch {
      this.#finish();
      return false;
    }
  }

  #overflow(): false {
    this.slowClient = true;
    if (this.#onOverflow) this.#onOverflow();
    else this.close();
    return false;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#onClose?.();
  }
}
