/** Server-Sent Events: encoding for downstream streams, a streaming decoder for upstream ones. */

/** One SSE event. `data` may span lines. */
export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** Encodes one event in the wire format, splitting multi-line data into several `data:` lines. */
export function encodeSseEvent(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  for (const line of event.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Encodes a JSON-RPC message as a `message` event (its JSON has no raw line breaks). */
export function encodeSseMessage(json: string, id?: string): string {
  return id === undefined
    ? `event: message\ndata: ${json}\n\n`
    : `event: message\nid: ${id}\ndata: ${json}\n\n`;
}

/**
 * Parses text into events per the WHATWG EventSource rules: CR, LF and CRLF line ends (also
 * split across chunks), comments, `event`, `id`, `retry` and multi-line `data`. Plain calls, no
 * streams: the upstream client feeds it straight from the socket.
 */
export class SseDecoder {
  #buffer = "";
  #pendingCr = false;
  #first = true;
  #data: string[] = [];
  #event: string | undefined;
  #id: string | undefined;
  #retry: number | undefined;

  /** Parses the next piece of text; every completed event goes to `emit`. */
  push(chunk: string, emit: (event: SseEvent) => void): void {
    if (this.#first) {
      this.#first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let start = 0;
    if (this.#pendingCr && chunk.charCodeAt(0) === 10) start = 1;
    this.#pendingCr = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#buffer + chunk.slice(start, i), emit);
      this.#buffer = "";
      if (c === 13) {
        if (i + 1 === chunk.length) this.#pendingCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer += chunk.slice(start);
  }

  /** The text ended: a last event without its blank line is still emitted. */
  end(emit: (event: SseEvent) => void): void {
    if (this.#buffer !== "") this.#line(this.#buffer, emit);
    this.#buffer = "";
    this.#dispatch(emit);
  }

  #line(text: string, emit: (event: SseEvent) => void): void {
    if (text === "") return this.#dispatch(emit);
    if (text.charCodeAt(0) === 58 /* : */) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
  }

  #dispatch(emit: (event: SseEvent) => void): void {
    const id = this.#id;
    const retry = this.#retry;
    if (this.#data.length > 0 || retry !== undefined || id !== undefined) {
      const out: SseEvent = { data: this.#data.join("\n") };
      if (this.#event !== undefined && this.#data.length > 0) out.event = this.#event;
      if (id !== undefined) out.id = id;
      if (retry !== undefined) out.retry = retry;
      emit(out);
    }
    this.#data = [];
    this.#event = undefined;
    this.#id = undefined;
    this.#retry = undefined;
  }
}

/** {@link SseDecoder} as a `TransformStream` from text to events. */
export class SseDecoderStream extends TransformStream<string, SseEvent> {
  constructor() {
    const decoder = new SseDecoder();
    super({
      transform: (chunk, controller) => decoder.push(chunk, (event) => controller.enqueue(event)),
      flush: (controller) => decoder.end((event) => controller.enqueue(event)),
    });
  }
}
