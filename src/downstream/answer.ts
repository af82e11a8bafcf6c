/**
 * How one JSON-RPC request is answered over Streamable HTTP, in either era: with a single JSON
 * body, unless something related to the request (progress, a log message, a server→client
 * request) must reach the client before its result, or the client accepts only
 * `text/event-stream`; then with an SSE stream that carries those messages and ends with the
 * result. Also the small answers both endpoints share.
 */
import type { Json, JsonRpcErrorObject } from "../mcp/jsonrpc.ts";
import { ErrorCode } from "../mcp/jsonrpc.ts";
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";
import type { wireId } from "./request_ids.ts";

/** Which of the two answer types a client takes. */
export interface Accepts {
  json: boolean;
  sse: boolean;
}

/** A request id as it goes on the wire (a bigint id as its digits). */
export type WireId = ReturnType<typeof wireId>;

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

/** The JSON-RPC response text of a request, and the HTTP status it gets when answered as JSON. */
export interface Reply {
  body: string;
  status: number;
}

/** Options of {@link answerRequest}. */
export interface AnswerOptions {
  id: WireId;
  accepts: Accepts;
  /** Bytes an answer stream may hold for a client that does not read. */
  bufferBytes: number;
  /** Where messages go that arrive before the result when the client takes only JSON. */
  elsewhere(json: string): void;
  /** Stops the request: its client stopped reading, or (with `cancelOnClose`) went away. */
  cancel(): void;
  /** Whether closing the answer stream cancels the request (2026-07-28; not a 2025 session). */
  cancelOnClose: boolean;
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
      if (!finished && options.cancelOnClose) options.cancel();
    },
    // The answer cannot follow what the client left unread: end the stream with an error it
    // can read instead of the answer, and stop the call.
    onOverflow: () => {
      finished = true;
      stream.sendLast(rpcErrorText(options.id, tooSlow(options.bufferBytes)));
      options.cancel();
    },
  });
  for (const json of early) stream.send(json);
  done.then((reply) => {
    finished = true;
    stream.sendLast(reply.body);
  });
  return new Response(stream.body, { headers: SSE_HEADERS });
}

/** One message as the answer, in the type the client takes. */
export function reply(
  json: string,
  accepts: Accepts,
  headers: Record<string, string> = {},
): Response {
  if (accepts.json) return new Response(json, { headers: { ...JSON_HEADERS, ...headers } });
  const channel = new SseChannel();
  channel.sendLast(json);
  return new Response(channel.body, { headers: { ...SSE_HEADERS, ...headers } });
}

/** A JSON-RPC error response's text. */
export function rpcErrorText(id: WireId | null, error: JsonRpcErrorObject): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error });
}

/** An HTTP error answer with a JSON-RPC error body echoing `id`. */
export function rpcErrorResponse(
  status: number,
  id: WireId | null,
  code: number,
  message: string,
  data?: Json,
): Response {
  const error = data === undefined ? { code, message } : { code, message, data };
  return new Response(rpcErrorText(id, error), { status, headers: JSON_HEADERS });
}

/** An HTTP error answer for a request the gateway could not read as one (id null). */
export function httpError(status: number, code: number, message: string): Response {
  return rpcErrorResponse(status, null, code, message);
}

/**
 * The answer to a request over the client's own rate limit: HTTP 429 with Retry-After when the
 * answer is JSON. Limits of an upstream (busy, its rate limit, an open circuit) are JSON-RPC
 * errors with `retry_after_ms` instead: SDK clients read no JSON-RPC error from a non-2xx answer.
 */
export function limited(json: string, retryAfterMs: number, accepts: Accepts): Response {
  if (!accepts.json) return reply(json, accepts);
  return new Response(json, {
    status: 429,
    headers: {
      ...JSON_HEADERS,
      "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    },
  });
}

/** The error that ends an answer stream whose client stopped reading. */
function tooSlow(bufferBytes: number): JsonRpcErrorObject {
  return {
    code: ErrorCode.UpstreamError,
    message: `Cannot stream the answer: the client left more than ${bufferBytes} bytes unread ` +
      "(mcp.limits.stream_buffer_bytes); the call was cancelled",
  };
}
