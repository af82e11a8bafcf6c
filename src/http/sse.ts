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
 * Parses a text stream into events per the WHATWG EventSource rules: CR, LF and CRLF line ends
 * (also split across chunks), comments, `event`, `id`, `retry` and multi-line `data`.
 */
export class SseDecoderStream extends TransformStream<string, SseEvent> {
  constructor() {
    let buffer = "";
    let pendingCr = false;
    let data: string[] = [];
    let event: string | undefined;
    let id: string | undefined;
    let retry: number | undefined;
    let first = true;

    const dispatch = (controller: TransformStreamDefaultController<SseEvent>) => {
      if (data.length > 0) {
        const out: SseEvent = { data: data.join("\n") };
        if (event !== undefined) out.event = event;
        if (id !== undefined) out.id = id;
        if (retry !== undefined) out.retry = retry;
        controller.enqueue(out);
      } else if (retry !== undefined || id !== undefined) {
        const out: SseEvent = { data: "" };
        if (id !== undefined) out.id = id;
        if (retry !== undefined) out.retry = retry;
        controller.enqueue(out);
      }
      data = [];
      event = undefined;
      id = undefined;
      retry = undefined;
    };

    const line = (text: string, controller: TransformStreamDefaultController<SseEvent>) => {
      if (text === "") return dispatch(controller);
      if (text.charCodeAt(0) === 58 /* : */) return;
      const colon = text.indexOf(":");
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? "" : text.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      switch (field) {
        case "data":
          data.push(value);
          break;
        case "event":
          event = value;
          break;
        case "id":
          if (!value.includes("\0")) id = value;
          break;
        case "retry":
          if (/^\d+$/.test(value)) retry = Number(value);
          break;
      }
    };

    super({
      transform(chunk, controller) {
        if (first) {
          first = false;
          if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
        }
        let start = 0;
        if (pendingCr && chunk.charCodeAt(0) === 10) start = 1;
        pendingCr = false;
        for (let i = start; i < chunk.length; i++) {
          const c = chunk.charCodeAt(i);
          if (c !== 10 && c !== 13) continue;
          line(buffer + chunk.slice(start, i), controller);
          buffer = "";
          if (c === 13) {
            if (i + 1 === chunk.length) pendingCr = true;
            else if (chunk.charCodeAt(i + 1) === 10) i++;
          }
          start = i + 1;
        }
        buffer += chunk.slice(start);
      },
      flush(controller) {
        if (buffer !== "") line(buffer, controller);
        dispatch(controller);
      },
    });
  }
}
