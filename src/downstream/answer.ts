/**
 * How one JSON-RPC request is answered over Streamable HTTP, in either era: with a single JSON
 * body, unless something related to the request (progress, a log message, a server→client
 * request) must reach the client before its result, or the client accepts only
 * `text/event-stream`; then with an SSE stream that carries those messages and ends with the
 * result. Closing that stream cancels the request.
 */
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";

/** Which of the two answer types a client takes. */
export interface Accepts {
  json: boolean;
  sse: boolean;
}

/** Reads which answer types the client takes from `Accept`; a missing header takes both. */
export function parseAccept(header: string | null): Accepts {
  if (header === null || header.trim() === "") return { json: true, sse: true };
  const accepts = { json: false, sse: false };
  for (const part of header.split(",")) {
    const [type = "", ...parameters] = part.split(";").map((s) => s.trim().toLowerCase());
    if (parameters.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (type === "*/*") return { json: true, sse: true };
    if (type === "application/json" || type === "application/*") accepts.json = true;
    if (type === "text/event-stream" || type === "text/*") accepts.sse = true;
  }
  return accepts;
}

/** The content type of JSON answers. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json",
};

/** Options of {@link answerRequest}. */
export interface AnswerOptions {
  accepts: Accepts;
  /** Bytes an answer stream may hold for a client that does not read. */
  bufferBytes: number;
  /** Where messages go that arrive before the result when the client takes only JSON. */
  elsewhere(json: string): void;
  /** Aborted when the client closes the answer stream. */
  cancel(): void;
}

/** The JSON-RPC response text of a request, and the HTTP status it gets when answered as JSON. */
export interface Reply {
  body: string;
  status: number;
}

/**
 * Runs `work` and answers its result. `work` gets a `send` for messages related to the request
 * and resolves with the JSON-RPC response; an SSE answer is always 200, whatever the status.
 */
export async function answerRequest(
  options: AnswerOptions,
  work: (send: (json: string) => void) => Promise<Reply>,
): Promise<Response> {
  const { accepts } = options;
  let channel: SseChannel | undefined;
  const early: string[] = [];
  const streamNeeded = Promise.withResolvers<"stream">();
  const send = (json: string) => {
    if (channel) channel.send(json);
    else if (accepts.sse) {
      early.push(json);
      streamNeeded.resolve("stream");
    } else options.elsewhere(json);
  };
  const done = work(send);
  if (accepts.json) {
    const first = accepts.sse ? await Promise.race([done, streamNeeded.promise]) : await done;
    if (first !== "stream") {
      return new Response(first.body, { status: first.status, headers: JSON_HEADERS });
    }
  }
  let finished = false;
  const stream = channel = new SseChannel({
    bufferBytes: options.bufferBytes,
    onClose: () => {
      if (!finished) options.cancel();
    },
  });
  for (const json of early) stream.send(json);
  done.then((reply) => {
    finished = true;
    stream.send(reply.body);
    stream.close();
  });
  return new Response(stream.body, { headers: SSE_HEADERS });
}

/** One message as an SSE answer (for clients that take only `text/event-stream`). */
export function sseReply(json: string, headers: Record<string, string> = {}): Response {
  const channel = new SseChannel();
  channel.send(json);
  channel.close();
  return new Response(channel.body, { headers: { ...SSE_HEADERS, ...headers } });
}
