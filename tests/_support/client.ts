/**
 * Client-side test builders: an SDK client, raw JSON-RPC POSTs (over a socket or straight into
 * a handler), an SSE body reader and a raw `initialize` handshake.
 *
 * @module
 */

import { SseDecoderStream } from "../../src/http/sse.ts";
import {
  Client,
  type ClientCapabilities,
  LoggingMessageNotificationSchema,
  StreamableHTTPClientTransport,
  ToolListChangedNotificationSchema,
} from "./sdk.ts";

/** Options of {@linkcode connectClient}. */
export interface ConnectClientOptions {
  /** Extra headers sent on every HTTP request of the client. */
  headers?: Record<string, string>;
  /** Capabilities declared in `initialize` (declare them before setting sampling etc. handlers). */
  capabilities?: ClientCapabilities;
}

/** A request handler, as the gateway's downstream exposes it. */
export type Handler = (req: Request) => Response | Promise<Response>;

/** One server-sent event. `event` and `id` are present only when the event had those fields. */
export interface SseEvent {
  /** The `event:` field. */
  event?: string;
  /** The `id:` field. */
  id?: string;
  /** The `data:` lines joined by "\n". */
  data: string;
}

/** A JSON-RPC response as tests read it. */
export interface JsonRpcReply {
  /** Always "2.0". */
  jsonrpc: string;
  /** Id of the request answered; `null` for errors about unreadable requests. */
  id: string | number | null;
  /** The result, on success. */
  result?: Record<string, unknown>;
  /** The error, on failure. */
  error?: { code: number; message: string; data?: unknown };
}

/** Protocol revision used by {@linkcode initialize}. */
export const PROTOCOL_VERSION = "2025-11-25";

/** Connects an SDK `Client` named "test-client" over Streamable HTTP; dispose to close it. */
export async function connectClient(
  url: string,
  options: ConnectClientOptions = {},
): Promise<Client & AsyncDisposable> {
  const client = new Client(
    { name: "test-client", version: "1.0.0" },
    { capabilities: options.capabilities ?? {} },
  );
  const transport = new StreamableHTTPClientTransport(
    new URL(url),
    options.headers === undefined ? {} : { requestInit: { headers: options.headers } },
  );
  await client.connect(transport);
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/**
 * POSTs `body` as JSON-RPC. A string `body` is sent verbatim (for malformed-JSON tests).
 * Defaults `content-type: application/json` and `accept: application/json, text/event-stream`;
 * `headers` override them. A function `target` is called with a `Request` for
 * `http://127.0.0.1/mcp` directly, without a socket.
 */
export function postJsonRpc(
  target: string | Handler,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...lowerCaseKeys(headers),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
  if (typeof target === "string") return fetch(target, init);
  return Promise.resolve(target(new Request("http://127.0.0.1/mcp", init)));
}

/**
 * Reads an SSE body to its end (or until `max` events, then cancels it) and returns the events
 * that carry data; comments and keep-alives are skipped. Parsing is the gateway's own decoder.
 */
export async function readSseEvents(response: Response, max = Infinity): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  if (response.body === null) return events;
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(
    new SseDecoderStream(),
  )
    .getReader();
  try {
    while (events.length < max) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.data === "") continue;
      events.push({
        ...(value.event === undefined ? {} : { event: value.event }),
        ...(value.id === undefined ? {} : { id: value.id }),
        data: value.data,
      });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

/** The JSON messages of an SSE body, read one at a time while the stream stays open. */
export interface SseMessages extends AsyncDisposable {
  /** The next message; rejects when the stream ends first or none comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Every message left, until the stream ends (or `timeoutMs` passes: then it rejects). */
  rest(timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** Closes the stream from the client's side (as a client that goes away does). */
  cancel(): Promise<void>;
}

/** Reads an SSE body message by message (keep-alives and empty events skipped). */
export function sseMessages(response: Response): SseMessages {
  if (response.body === null) throw new Error("Cannot read SSE: the response has no body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(
    new SseDecoderStream(),
  ).getReader();
  // A read that timed out is still pending: the next one waits for it, so no message is lost.
  let pending: ReturnType<typeof reader.read> | undefined;
  const read = async (timeoutMs: number): Promise<Record<string, unknown> | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Cannot read SSE: no message within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      for (;;) {
        pending ??= reader.read();
        const { value, done } = await Promise.race([pending, late]);
        pending = undefined;
        if (done) return undefined;
        if (value.data !== "") return JSON.parse(value.data);
      }
    } finally {
      clearTimeout(timer);
    }
  };
  const cancel = () => reader.cancel().catch(() => {});
  return {
    async next(timeoutMs = 5_000) {
      const message = await read(timeoutMs);
      if (message === undefined) throw new Error("Cannot read SSE: the stream ended");
      return message;
    },
    async rest(timeoutMs = 5_000) {
      const messages = [];
      for (let m = await read(timeoutMs); m !== undefined; m = await read(timeoutMs)) {
        messages.push(m);
      }
      return messages;
    },
    cancel,
    [Symbol.asyncDispose]: cancel,
  };
}

/**
 * Reads the JSON-RPC response answering `id` from a JSON or SSE body; notifications and other
 * responses before it are skipped.
 */
export async function readJsonRpcReply(
  response: Response,
  id: string | number,
): Promise<JsonRpcReply> {
  const type = response.headers.get("content-type") ?? "";
  const messages: unknown[] = type.startsWith("text/event-stream")
    ? (await readSseEvents(response)).map((event) => JSON.parse(event.data))
    : [await response.json()].flat();
  const reply = messages.find((m): m is JsonRpcReply =>
    typeof m === "object" && m !== null && (m as JsonRpcReply).id === id &&
    ("result" in m || "error" in m)
  );
  if (reply === undefined) {
    throw new Error(`Cannot read reply: no response with id ${JSON.stringify(id)} in the body`);
  }
  return reply;
}

/**
 * Runs the handshake (`initialize` with protocol "2025-11-25" declaring `capabilities`, then
 * `notifications/initialized`) and returns the session id and the `initialize` response.
 * Throws on a non-2xx status or a missing `mcp-session-id`.
 */
export async function initialize(
  target: string | Handler,
  headers: Record<string, string> = {},
  capabilities: Record<string, unknown> = {},
): Promise<{ sessionId: string; body: JsonRpcReply }> {
  const response = await postJsonRpc(target, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities,
      clientInfo: { name: "test-client", version: "1.0.0" },
    },
  }, headers);
  if (!response.ok) {
    const text = await response.text();
    throw new Error(`Cannot initialize: status ${response.status}: ${text}`);
  }
  const sessionId = response.headers.get("mcp-session-id");
  const body = await readJsonRpcReply(response, 0);
  if (sessionId === null) throw new Error("Cannot initialize: no mcp-session-id header");
  const initialized = await postJsonRpc(
    target,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION },
  );
  await initialized.body?.cancel();
  if (!initialized.ok) {
    throw new Error(`Cannot initialize: notifications/initialized got ${initialized.status}`);
  }
  return { sessionId, body };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Ends the client's session with DELETE (the SDK's `close()` alone keeps it), then closes it. */
export async function endSession(client: Client): Promise<void> {
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await client.close();
}

/**
 * Sets the client's log level to `info` and records, in arrival order, the `data` of each log
 * message and `"list_changed"` for each `notifications/tools/list_changed`. Both arrive on the
 * GET stream when not tied to a call, so a later `list_changed` proves an earlier message came
 * or never will.
 */
export async function recordNotices(client: Client): Promise<string[]> {
  const seen: string[] = [];
  client.setNotificationHandler(
    LoggingMessageNotificationSchema,
    (n) => void seen.push(String(n.params.data)),
  );
  client.setNotificationHandler(
    ToolListChangedNotificationSchema,
    () => void seen.push("list_changed"),
  );
  await client.setLoggingLevel("info");
  return seen;
}
