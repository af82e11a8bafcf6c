/**
 * Writes lines to a child's stdin with as few writes as possible: a line goes out at once when
 * no write is in progress; lines that arrive while one is (under load, many per event-loop turn)
 * are joined and go out together in the next write. One write per message was a third of a
 * stdio call's CPU (the system call and the child's wake-up), which joining divides by the lines
 * per write. Lines are encoded into one reused buffer, so nothing is allocated per write.
 */

/** Keeps a buffer this large between writes; larger batches get a buffer of their own. */
const KEEP_BYTES = 1024 * 1024;

/** Lines to one writable stream, each batch of lines in one write. */
export class LineWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #failure: (error: unknown) => Error;
  readonly #encoder = new TextEncoder();
  #buffer = new Uint8Array(16 * 1024);
  /** Lines waiting for the write in progress to end. */
  #queued: string[] = [];
  /** The write in progress. */
  #current: Promise<void> | undefined;
  /** Settles once the queued lines are written. */
  #next: PromiseWithResolvers<void> | undefined;
  #closed = false;

  /** `failure` turns a write error into the error the writers of the lines get. */
  constructor(writer: WritableStreamDefaultWriter<Uint8Array>, failure: (error: unknown) => Error) {
    this.#writer = writer;
    this.#failure = failure;
  }

  /**
   * Writes `line` (with its newline); resolves once it was handed to the pipe, rejects with the
   * mapped error when that failed. Lines queued behind one write share the promise of their batch.
   */
  write(line: string): Promise<void> {
    if (this.#closed) return Promise.reject(this.#failure(new Error("the pipe is closed")));
    this.#queued.push(line);
    if (this.#current === undefined) return this.#current = this.#flush();
    if (this.#next === undefined) this.#next = handled(Promise.withResolvers<void>());
    return this.#next.promise;
  }

  /** Writes what is queued, then closes the stream; lines written after this are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#current !== undefined) await this.#current.catch(() => {});
    await this.#writer.close();
  }

  /** Writes the queued lines in one write; then the lines queued meanwhile, if any. */
  async #flush(): Promise<void> {
    const lines = this.#queued;
    this.#queued = [];
    try {
      await this.#writer.write(this.#encode(lines.length === 1 ? lines[0]! : lines.join("")));
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#afterWrite();
    }
  }

  #afterWrite(): void {
    const next = this.#next;
    if (next === undefined) {
      this.#current = undefined;
      return;
    }
    this.#next = undefined;
    this.#current = this.#flush();
    this.#current.then(next.resolve, next.reject);
  }

  /** The bytes of `text`, in the reused buffer when they fit (it is free: no write is in progress). */
  #encode(text: string): Uint8Array {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    const most = text.length * 3;
    if (most > this.#buffer.length) {
      if (most > KEEP_BYTES) return this.#encoder.encode(text);
      this.#buffer = new Uint8Array(Math.max(most, this.#buffer.length * 2));
    }
    const { written } = this.#encoder.encodeInto(text, this.#buffer);
    return this.#buffer.subarray(0, written);
  }
}

/** A batch whose writers all went away must not count as an unhandled rejection. */
function handled(deferred: PromiseWithResolvers<void>): PromiseWithResolvers<void> {
  deferred.promise.catch(() => {});
  return deferred;
}
