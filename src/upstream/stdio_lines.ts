/**
 * A child's output (stdout or stderr) as lines, read with a BYOB reader into one reused buffer:
 * the default reader of a process pipe allocates 64 KiB per read, which made the garbage
 * collector a tenth of a stdio call's CPU. Each read is decoded once; a line is cut from the
 * decoded text without copying and handed over as it was written (without its CR LF). A line
 * split across reads is joined once it is complete, and only the new text is searched for its
 * end, so a long line costs linear time.
 */

/** What to do with the lines of one stream. */
export interface LineHandlers {
  /** One complete line that is not blank; return false to stop reading (the stream is cancelled). */
  line(text: string): boolean;
  /**
   * A line grew past the limit: its first characters. Return false to stop reading; true drops
   * the rest of that line and reads on.
   */
  tooLong(start: string): boolean;
}

const CHUNK = 64 * 1024;
/** How much of a line that is too long is handed to {@link LineHandlers.tooLong}. */
const START = 200;

/**
 * Reads `stream` to its end, handing each line to `handlers`; lines longer than `maxLine`
 * characters are cut short. Resolves at the end of the stream, when a handler says stop, or when
 * the stream fails (a process that died: its exit status says why).
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  maxLine: number,
  handlers: LineHandlers,
): Promise<void> {
  const decoder = new TextDecoder();
  const lines = new LineSplitter(maxLine, handlers);
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(CHUNK);
  try {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || value === undefined) break;
      buffer = value.buffer as ArrayBuffer;
      if (!lines.push(decoder.decode(value, { stream: true }))) return;
    }
    lines.push(decoder.decode());
    lines.end();
  } catch {
    // The pipe broke because the process died; its exit status tells why.
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Cuts decoded text into lines. */
export class LineSplitter {
  readonly #maxLine: number;
  readonly #handlers: LineHandlers;
  /** The start of a line not complete yet. */
  #partial: string[] = [];
  #partialLength = 0;
  /** Dropping the rest of a line that was too long. */
  #skipping = false;

  constructor(maxLine: number, handlers: LineHandlers) {
    this.#maxLine = maxLine;
    this.#handlers = handlers;
  }

  /** Takes the next piece of text; false once a handler said stop. */
  push(text: string): boolean {
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const piece = text.slice(start, newline);
      start = newline + 1;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      if (!this.#deliver(this.#joined(piece))) return false;
    }
    if (start === text.length || this.#skipping) return true;
    const rest = start === 0 ? text : text.slice(start);
    this.#partial.push(rest);
    this.#partialLength += rest.length;
    if (this.#partialLength <= this.#maxLine) return true;
    const head = this.#joined("").slice(0, START);
    this.#skipping = true;
    return this.#handlers.tooLong(head);
  }

  /** The end of the stream: a last line without a newline counts too. */
  end(): void {
    if (this.#partialLength > 0 && !this.#skipping) this.#deliver(this.#joined(""));
  }

  /** `piece` after the pieces held of the same line, which are let go. */
  #joined(piece: string): string {
    if (this.#partial.length === 0) return piece;
    const line = this.#partial.join("") + piece;
    this.#partial = [];
    this.#partialLength = 0;
    return line;
  }

  #deliver(raw: string): boolean {
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    return isBlank(line) || this.#handlers.line(line);
  }
}

/** Whether a line holds only white space (a JSON-RPC line starts with its brace at once). */
function isBlank(line: string): boolean {
  const first = line.charCodeAt(0);
  if (first > 0x20 && first < 0x7f) return false;
  return line.trim() === "";
}
