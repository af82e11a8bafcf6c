/** A server-sent event stream the gateway writes JSON-RPC messages into. */
import { encodeSseMessage } from "../http/sse.ts";

const encoder = new TextEncoder();
const DEFAULT_BUFFER_BYTES = 1_048_576;

/** Headers of every SSE answer. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};

/** A writable SSE stream with a keep-alive comment while idle. */
export class SseChannel {
  /** The body to answer with. */
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** Set when the stream was closed because the client did not read fast enough. */
  slowClient = false;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  readonly #onClose: (() => void) | undefined;

  /**
   * `bufferBytes` bounds what waits for a client that does not read: past it the stream is
   * closed (the client may reconnect) instead of growing without end.
   */
  constructor(options: { keepAliveMs?: number; onClose?: () => void; bufferBytes?: number } = {}) {
    this.#onClose = options.onClose;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => this.#finish(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: options.bufferBytes ?? DEFAULT_BUFFER_BYTES }),
    );
    if (options.keepAliveMs) {
      this.#keepAlive = setInterval(() => this.#write(": keepalive\n\n"), options.keepAliveMs);
    }
  }

  /** Whether the stream has ended (closed by us or by the client). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes one JSON-RPC message as an event; false when the stream is gone. */
  send(json: string): boolean {
    return this.#write(encodeSseMessage(json));
  }

  /** Ends the stream. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // Already errored or cancelled by the client.
    }
    this.#finish();
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    const bytes = encoder.encode(text);
    if ((this.#controller.desiredSize ?? 0) < bytes.byteLength) {
      this.slowClient = true;
      this.close();
      return false;
    }
    try {
      this.#controller.enqueue(bytes);
      return true;
    } catch {
      this.#finish();
      return false;
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#onClose?.();
  }
}
