/**
 * Streamable HTTP upstream transport (MCP 2025-11-25 §Transports), hand-rolled on `fetch`:
 * POST per message, JSON or SSE answers, the session id kept, resumption with `Last-Event-ID`
 * when an answer stream breaks after an event id, and a GET stream for unsolicited messages.
 */
import { GatewayError } from "../mcp/errors.ts";
import {
  isJsonObject,
  type JsonRpcErrorObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { encodeHeaderValue, isModernVersion, META } from "../mcp/era.ts";
import { SseDecoderStream, type SseEvent } from "../http/sse.ts";
import { describeError } from "../log.ts";
import { delay } from "./clock.ts";
import {
  type Deliver,
  type FetchLike,
  type HttpTransportOptions,
  type MessageTransport,
  SessionExpiredError,
  unreachable,
} from "./transport.ts";

/** Options of {@link StreamableHttpTransport}. */
export interface StreamableOptions extends HttpTransportOptions {
  /** How many times a broken answer stream is resumed before giving up. */
  maxResumes?: number;
}

const IGNORED_EVENTS = new Set(["ping", "keepalive", "heartbeat"]);

/** Requests whose `Mcp-Name` header mirrors `params.name` (or `params.uri`). */
const NAMED = new Set(["tools/call", "prompts/get", "resources/read"]);

/** The 2026-07-28 revision a message claims in its envelope, if any. */
function modernVersionOf(message: JsonRpcMessage): string | undefined {
  if (!("method" in message) || !isJsonObject(message.params)) return undefined;
  const meta = message.params._meta;
  const version = isJsonObject(meta) ? meta[META.protocolVersion] : undefined;
  return typeof version === "string" ? version : undefined;
}

/** The JSON-RPC error in an HTTP error's body, if the body is one. */
function errorBodyOf(text: string): JsonRpcErrorObject | undefined {
  try {
    const body = JSON.parse(text);
    const error = isJsonObject(body) ? body.error : undefined;
    if (!isJsonObject(error) || typeof error.code !== "number") return undefined;
    const message = typeof error.message === "string" ? error.message : "";
    return error.data === undefined
      ? { code: error.code, message }
      : { code: error.code, message, data: error.data };
  } catch {
    return undefined;
  }
}

/** ` (supported: …)` for a -32022 error that lists the versions its server speaks. */
function supportedOf(error: JsonRpcErrorObject): string {
  const data = isJsonObject(error.data) ? error.data : undefined;
  return Array.isArray(data?.supported) ? ` (supported: ${data.supported.join(", ")})` : "";
}
const DEFAULT_RETRY_MS = 1000;
const DRAIN_LIMIT_MS = 10_000;

/** One Streamable HTTP session with an upstream. */
export class StreamableHttpTransport implements MessageTransport {
  readonly kind = "streamable" as const;
  readonly correlates = true;
  readonly #options: StreamableOptions;
  readonly #fetch: FetchLike;
  readonly #closing = new AbortController();
  #deliver: Deliver = () => {};
  #onClose: (error?: Error) => void = () => {};
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #listener: AbortController | undefined;

  constructor(options: StreamableOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    this.#deliver = deliver;
    this.#onClose = onClose;
    return Promise.resolve();
  }

  initialized(protocolVersion: string): void {
    // A 2026-07-28 upstream has no GET stream: the supervisor listens with subscriptions/listen.
    if (isModernVersion(protocolVersion)) return;
    this.#protocolVersion = protocolVersion;
    this.#listener?.abort();
    this.#listener = new AbortController();
    this.#listen(AbortSignal.any([this.#listener.signal, this.#closing.signal]));
  }

  resetSession(): void {
    this.#listener?.abort();
    this.#sessionId = undefined;
    this.#protocolVersion = undefined;
  }

  async send(
    message: JsonRpcMessage,
    signal: AbortSignal,
    extra?: Record<string, string>,
  ): Promise<void> {
    const server = this.#options.server;
    const modern = modernVersionOf(message);
    const sentSession = modern === undefined ? this.#sessionId : undefined;
    let res: Response;
    try {
      res = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: modern === undefined
          ? this.#headers("application/json")
          : this.#modernHeaders(message as JsonRpcRequest, modern, extra),
        body: this.#serialize(message),
        signal: signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(server, error);
    }
    const requestId = "method" in message && "id" in message ? (message.id as number) : undefined;
    if (res.status === 202 || (res.ok && requestId === undefined)) {
      await res.body?.cancel();
      return;
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      if (
        sentSession !== undefined &&
        (res.status === 404 || (res.status === 400 && /session/i.test(text)))
      ) {
        throw new SessionExpiredError(
          `Upstream '${server}' no longer knows session (HTTP ${res.status})`,
        );
      }
      const rpcError = errorBodyOf(text);
      if (rpcError !== undefined && modern !== undefined && requestId !== undefined) {
        // A 2026-07-28 server answers its errors with an HTTP status and a JSON-RPC body.
        this.#deliver({ jsonrpc: "2.0", id: requestId, error: rpcError }, requestId);
        return;
      }
      this.#options.log.debug("upstream answered an HTTP error", {
        status: res.status,
        body: text.slice(0, 200),
      });
      const detail = rpcError === undefined
        ? ""
        : `: ${rpcError.code} ${rpcError.message}${supportedOf(rpcError)}`;
      throw new GatewayError(
        "upstream_http_error",
        server,
        `Upstream '${server}' answered HTTP ${res.status}${
          res.statusText ? ` ${res.statusText}` : ""
        }${detail}`,
        rpcError === undefined
          ? { status: res.status }
          : { status: res.status, rpcCode: rpcError.code },
      );
    }
    const session = modern === undefined ? res.headers.get("mcp-session-id") : null;
    if (session !== null) this.#sessionId = session;
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("text/event-stream")) {
      await this.#readAnswerStream(res, requestId!, signal);
      return;
    }
    const text = await res.text();
    if (text.trim() === "") {
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Upstream '${server}' answered a request with an empty body`,
      );
    }
    const parsed = this.#parse(text);
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      this.#deliver(item as JsonRpcMessage, requestId);
    }
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    if (this.#sessionId === undefined) return;
    try {
      const res = await this.#fetch(this.#options.url, {
        method: "DELETE",
        headers: this.#headers(undefined),
        signal: AbortSignal.timeout(2000),
      });
      await res.body?.cancel();
    } catch {
      // Ending the session is a courtesy (spec: clients SHOULD send DELETE); the upstream may be gone.
    }
  }

  #headers(contentType: string | undefined, lastEventId?: string): Record<string, string> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      accept: contentType
        ? this.#options.accept ?? "application/json, text/event-stream"
        : "text/event-stream",
      "user-agent": this.#options.userAgent,
    };
    if (contentType) headers["content-type"] = contentType;
    if (this.#sessionId !== undefined) headers["mcp-session-id"] = this.#sessionId;
    if (this.#protocolVersion !== undefined) {
      headers["mcp-protocol-version"] = this.#protocolVersion;
    }
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    return headers;
  }

  /** The headers of a 2026-07-28 request: no session, the method and name mirrored (spec: SEP-2243). */
  #modernHeaders(
    message: JsonRpcRequest,
    version: string,
    extra: Record<string, string> | undefined,
  ): Record<string, string> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      accept: this.#options.accept ?? "application/json, text/event-stream",
      "user-agent": this.#options.userAgent,
      "content-type": "application/json",
      "mcp-protocol-version": version,
      "mcp-method": message.method,
      ...extra,
    };
    const name = message.params?.[message.method === "resources/read" ? "uri" : "name"];
    if (NAMED.has(message.method) && typeof name === "string") {
      headers["mcp-name"] = encodeHeaderValue(name);
    }
    return headers;
  }

  #serialize(message: JsonRpcMessage): string {
    const body = JSON.stringify(message);
    this.#options.countBytes?.("sent", body.length);
    return body;
  }

  #parse(text: string): unknown {
    this.#options.countBytes?.("received", text.length);
    try {
      return JSON.parse(text);
    } catch {
      const server = this.#options.server;
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Upstream '${server}' sent a message that is not valid JSON`,
      );
    }
  }

  /** Reads an answer stream until the response to `requestId`; resumes with GET + Last-Event-ID if it breaks. */
  async #readAnswerStream(first: Response, requestId: number, signal: AbortSignal): Promise<void> {
    const server = this.#options.server;
    let res = first;
    let lastEventId: string | undefined;
    let retryMs = DEFAULT_RETRY_MS;
    for (let resumes = 0;; resumes++) {
      const state = { answered: false, lastEventId, retryMs };
      try {
        await this.#readEvents(res, signal, requestId, state);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (error instanceof GatewayError) throw error;
        if (state.lastEventId === undefined) {
          throw new GatewayError(
            "upstream_disconnected",
            server,
            `Upstream '${server}' dropped the connection before answering`,
            { cause: error },
          );
        }
      }
      if (state.answered) return;
      lastEventId = state.lastEventId;
      retryMs = state.retryMs;
      if (lastEventId === undefined || resumes >= (this.#options.maxResumes ?? 3)) {
        throw new GatewayError(
          "upstream_closed",
          server,
          `Upstream '${server}' closed the stream before answering`,
        );
      }
      await delay(retryMs, signal);
      try {
        res = await this.#get(lastEventId, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new GatewayError(
          "upstream_unreachable",
          server,
          `Cannot resume the stream of upstream '${server}': ${describeError(error)}`,
          { cause: error },
        );
      }
      if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
        await res.body?.cancel();
        throw new GatewayError(
          "upstream_closed",
          server,
          `Upstream '${server}' could not resume the stream (HTTP ${res.status})`,
        );
      }
    }
  }

  /**
   * Delivers every message of one SSE body. Once the awaited response arrived, the rest of the
   * stream is drained in the background so the connection can be reused.
   */
  async #readEvents(
    res: Response,
    signal: AbortSignal,
    requestId: number | undefined,
    state: { answered: boolean; lastEventId: string | undefined; retryMs: number },
  ): Promise<void> {
    const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
      new SseDecoderStream(),
    );
    const reader = events.getReader();
    const consume = (event: SseEvent): boolean => {
      if (event.id !== undefined) state.lastEventId = event.id;
      if (event.retry !== undefined) state.retryMs = event.retry;
      return this.#deliverEvent(event, requestId);
    };
    let done = false;
    try {
      while (!done) {
        const next = await reader.read();
        if (next.done) return;
        if (requestId !== undefined && consume(next.value)) {
          state.answered = true;
          done = true;
        } else if (requestId === undefined) consume(next.value);
      }
    } catch (error) {
      reader.releaseLock();
      throw error;
    }
    this.#drain(reader, signal);
  }

  #drain(reader: ReadableStreamDefaultReader<SseEvent>, signal: AbortSignal): void {
    const timer = setTimeout(() => reader.cancel().catch(() => {}), DRAIN_LIMIT_MS);
    (async () => {
      try {
        for (;;) {
          const next = await reader.read();
          if (next.done || signal.aborted) break;
          this.#deliverEvent(next.value, undefined);
        }
      } catch {
        // The answer was already delivered; a broken tail of the stream loses nothing.
      } finally {
        clearTimeout(timer);
      }
    })();
  }

  /** Opens a GET event stream, resuming after `lastEventId` when given. */
  #get(lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    return this.#fetch(this.#options.url, {
      method: "GET",
      headers: this.#headers(undefined, lastEventId),
      signal,
    });
  }

  /** Delivers the messages of one event; true when the response to `requestId` was among them. */
  #deliverEvent(event: SseEvent, requestId: number | undefined): boolean {
    if (!this.#isMessageEvent(event)) return false;
    const parsed = this.#parse(event.data);
    let answered = false;
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const message = item as JsonRpcMessage;
      this.#deliver(message, requestId);
      if (requestId !== undefined && !("method" in message) && message.id === requestId) {
        answered = true;
      }
    }
    return answered;
  }

  #isMessageEvent(event: SseEvent): boolean {
    if (event.data.trim() === "" || event.data === "[DONE]") return false;
    if (event.event === undefined || event.event === "message") return true;
    return this.#options.normalizeSseEvents === true && !IGNORED_EVENTS.has(event.event);
  }

  /**
   * The GET stream for messages not tied to a request, reopened with backoff. A refused
   * reconnect means the upstream is gone, so the session is reported closed at once.
   */
  async #listen(signal: AbortSignal): Promise<void> {
    const server = this.#options.server;
    let lastEventId: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let retryMs = DEFAULT_RETRY_MS;
      let res: Response;
      try {
        res = await this.#get(lastEventId, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#onClose(
          unreachable(server, error),
        );
        return;
      }
      if (res.status === 405 || res.status === 404 || res.status === 400) {
        await res.body?.cancel();
        return;
      }
      try {
        if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
          await res.body?.cancel();
          throw new Error(`HTTP ${res.status}`);
        }
        failures = 0;
        const state = { answered: false, lastEventId, retryMs };
        await this.#readEvents(res, signal, undefined, state);
        lastEventId = state.lastEventId;
        retryMs = state.retryMs;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        this.#options.log.debug("upstream listening stream failed", {
          error: describeError(error),
        });
      }
      await delay(Math.min(retryMs * 2 ** failures, 30_000), signal).catch(() => {});
    }
  }
}
