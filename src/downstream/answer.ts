/**
 * How one JSON-RPC request is answered over Streamable HTTP, in either era: with a single JSON
 * body, unless something related to the request (progress, a log message, a server→client
 * request) must reach the client before its result, or the client accepts only
 * `text/event-stream`; then with an SSE stream that carries those messages and ends with the
 * result. Also the small answers both endpoints share.
 */
import type { Json, JsonObject, JsonRpcErrorObject } from "../mcp/jsonrpc.ts";
import { ErrorCode } from "../mcp/jsonrpc.ts";
import { sourceOf } from "../mcp/result_source.ts";
import { jsonResponse } from "../http/prepared.ts";
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";
import type { wireId } from "./request_ids.ts";

/** Which of the two answer types a client takes. */
export interface Accepts {
  json: boolean;
  sse: boolean;
}

/** A request id as it goes on the wire (a bigint id as its digits). */
export type WireId = ReturnType<typeof wireId>;

const BOTH: Accepts = Object.freeze({ json: true, sse: true });
/** The answers to the `Accept` values seen last (clients send the same few). */
const acceptsSeen = new Map<string, Accepts>();
const MAX_ACCEPTS_SEEN = 64;

/** Reads which answer types the client takes from `Accept`; a missing header takes both. */
export function parseAccept(header: string | null): Accepts {
  if (header === null) return BOTH;
  let accepts = acceptsSeen.get(header);
  if (accepts !== undefined) return accepts;
  accepts = Object.freeze(readAccept(header));
  if (acceptsSeen.size >= MAX_ACCEPTS_SEEN) acceptsSeen.clear();
  acceptsSeen.set(header, accepts);
  return accepts;
}

function readAccept(header: string): Accepts {
  if (header.trim() === "") return BOTH;
  const accepts = { json: false, sse: false };
  for (const part of header.split(",")) {
    const [type = "", ...parameters] = part.split(";").map((s) => s.trim().toLowerCase());
    if (parameters.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (type === "*/*") return BOTH;
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
export function answerRequest(
  options: AnswerOptions,
  work: (send: (json: string) => void) => Promise<Reply>,
): Promise<Response> {
  // A client that takes only JSON gets its related messages elsewhere: nothing can turn the
  // answer into a stream, so there is nothing to wait for but the result.
  if (!options.accepts.sse) return work(options.elsewhere).then(jsonAnswer);
  return new StreamableAnswer(options).run(work);
}

/** A reply as a JSON answer. */
function jsonAnswer(reply: Reply): Response {
  return jsonResponse(reply.body, reply.status);
}

/**
 * The answer to a client that takes event streams: JSON if the result comes first (and the
 * client takes JSON), else a stream opened by the first related message, ending with the result.
 */
class StreamableAnswer {
  readonly #options: AnswerOptions;
  #channel: SseChannel | undefined;
  /** The answer was given as JSON: later related messages have nowhere to go. */
  #answered = false;
  #finished = false;
  #resolve: (response: Response) => void = () => {};
  #reject: (error: unknown) => void = () => {};
  readonly send = (json: string): void => {
    if (this.#channel === undefined) {
      if (this.#answered) return;
      this.#open();
    }
    this.#channel!.send(json);
  };

  constructor(options: AnswerOptions) {
    this.#options = options;
  }

  run(work: (send: (json: string) => void) => Promise<Reply>): Promise<Response> {
    const response = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (!this.#options.accepts.json) this.#open();
    work(this.send).then((reply) => this.#done(reply), (error) => this.#failed(error));
    return response;
  }

  #done(reply: Reply): void {
    const channel = this.#channel;
    if (channel === undefined) {
      this.#answered = true;
      this.#resolve(jsonAnswer(reply));
    } else if (!this.#finished) {
      this.#finished = true;
      channel.sendLast(reply.body);
    }
  }

  #failed(error: unknown): void {
    if (this.#channel === undefined) this.#reject(error);
    else if (!this.#finished) {
      this.#finished = true;
      this.#channel.close();
    }
  }

  /** Answers with a stream from now on. */
  #open(): void {
    const options = this.#options;
    const channel = this.#channel = new SseChannel({
      bufferBytes: options.bufferBytes,
      onClose: () => {
        if (!this.#finished && options.cancelOnClose) options.cancel();
      },
      // The answer cannot follow what the client left unread: end the stream with an error it
      // can read instead of the answer, and stop the call.
      onOverflow: () => {
        this.#finished = true;
        channel.sendLast(rpcErrorText(options.id, tooSlow(options.bufferBytes)));
        options.cancel();
      },
    });
    this.#resolve(new Response(channel.body, { headers: SSE_HEADERS }));
  }
}

/** One message as the answer, in the type the client takes. */
export function reply(json: string, accepts: Accepts, headers?: Record<string, string>): Response {
  if (accepts.json) return jsonResponse(json, 200, headers);
  const channel = new SseChannel();
  channel.sendLast(json);
  return new Response(channel.body, { headers: { ...SSE_HEADERS, ...headers } });
}

/**
 * A JSON-RPC result response's text. A result relayed as the upstream sent it is written from the
 * upstream's own text, with this request's id (result_source.ts).
 */
export function resultText(id: WireId, result: JsonObject): string {
  const source = sourceOf(result);
  if (source === undefined) return JSON.stringify({ jsonrpc: "2.0", id, result });
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${source}}`;
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
  return jsonResponse(rpcErrorText(id, error), status);
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
