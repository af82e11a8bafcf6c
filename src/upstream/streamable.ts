/**
 * Streamable HTTP upstream transport (MCP 2025-11-25 §Transports) on the native HTTP/1.1 client
 * (or `fetch`, see `http_exchange.ts`): POST per message, JSON or SSE answers, the session id
 * kept, resumption with `Last-Event-ID` when an answer stream breaks after an event id, and a GET
 * stream for unsolicited messages. Redirects are refused, never followed.
 */
import { GatewayError } from "../mcp/errors.ts";
import {
  isJsonObject,
  type JsonRpcErrorObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { encodeHeaderValue, isModernVersion, META } from "../mcp/era.ts";
import type { SseEvent } from "../http/sse.ts";
import { describeError } from "../log.ts";
import { delay } from "./clock.ts";
import { deadlines } from "./deadlines.ts";
import {
  createUpstreamHttp,
  type HttpClientStatus,
  type SseReader,
  type UpstreamAnswer,
  type UpstreamHttp,
} from "./http_exchange.ts";
import {
  type Deliver,
  type HttpTransportOptions,
  type MessageTransport,
  redirectNote,
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
  readonly #http: UpstreamHttp;
  readonly #closing = new AbortController();
  #deliver: Deliver = () => {};
  #onClose: (error?: Error) => void = () => {};
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #listener: AbortController | undefined;
  /** The headers of message POSTs, rebuilt when the session or protocol version changes. */
  #postHeaders: Record<string, string> | undefined;

  constructor(options: StreamableOptions) {
    this.#options = options;
    this.#http = createUpstreamHttp({
      url: options.url,
      choice: options.client ?? { mode: "fetch", reason: "a fetch function was given" },
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      log: options.log,
    });
  }

  /** The HTTP client in use, as shown in `/health`. */
  get httpClient(): HttpClientStatus {
    return this.#http.status;
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
    this.#postHeaders = undefined;
    this.#listener?.abort();
    this.#listener = new AbortController();
    this.#listen(AbortSignal.any([this.#listener.signal, this.#closing.signal]));
  }

  resetSession(): void {
    this.#listener?.abort();
    this.#sessionId = undefined;
    this.#protocolVersion = undefined;
    this.#postHeaders = undefined;
  }

  async send(
    message: JsonRpcMessage,
    signal: AbortSignal,
    extra?: Record<string, string>,
  ): Promise<void> {
    const server = this.#options.server;
    const modern = modernVersionOf(message);
    const sentSession = modern === undefined ? this.#sessionId : undefined;
    let res: UpstreamAnswer;
    try {
      const headers = modern === undefined
        ? this.#postHeaders ??= this.#headers("application/json")
        : this.#modernHeaders(message as JsonRpcRequest, modern, extra);
      res = await this.#http.send("POST", headers, this.#serialize(message), signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(server, error);
    }
    const ok = res.status >= 200 && res.status < 300;
    const requestId = "method" in message && "id" in message ? (message.id as number) : undefined;
    if (res.status === 202 || (ok && requestId === undefined)) {
      await res.discard();
      return;
    }
    if (!ok) {
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
        }${detail}${redirectNote(res)}`,
        rpcError === undefined
          ? { status: res.status }
          : { status: res.status, rpcCode: rpcError.code },
      );
    }
    const session = modern === undefined ? res.headers.get("mcp-session-id") : null;
    if (session !== null && session !== this.#sessionId) {
      this.#sessionId = session;
      this.#postHeaders = undefined;
    }
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("text/event-stream")) {
      await this.#readAnswerStream(res, requestId!, signal);
      return;
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new GatewayError(
        "upstream_disconnected",
        server,
        `Upstream '${server}' dropped the connection before answering`,
        { cause: error },
      );
    }
    if (text.trim() === "") {
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Upstream '${server}' answered a request with an empty body`,
      );
    }
    const parsed = this.#parse(text);
    if (!Array.isArray(parsed)) this.#deliver(parsed as JsonRpcMessage, requestId, text);
    else for (const item of parsed) this.#deliver(item as JsonRpcMessage, requestId);
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    if (this.#sessionId !== undefined) {
      try {
        const headers = this.#headers(undefined);
        const res = await this.#http.send("DELETE", headers, undefined, AbortSignal.timeout(2000));
        await res.discard();
      } catch {
        // Ending the session is a courtesy (spec: clients SHOULD send DELETE); the upstream may be gone.
      }
    }
    this.#http.close();
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
  async #readAnswerStream(
    first: UpstreamAnswer,
    requestId: number,
    signal: AbortSignal,
  ): Promise<void> {
    const server = this.#options.server;
    let res = first;
    let lastEventId: string | undefined;
    let retryMs = DEFAULT_RETRY_MS;
    for (let resumes = 0;; resumes++) {
      const state = { answered: false, lastEventId, retryMs };
      try {
        await this.#readEvents(res, requestId, state);
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
      if (!isEventStream(res)) {
        await res.discard();
        throw new GatewayError(
          "upstream_closed",
          server,
          `Upstream '${server}' could not resume the stream (HTTP ${res.status}${
            redirectNote(res)
          })`,
        );
      }
    }
  }

  /**
   * Delivers every message of one SSE body. Once the awaited response arrived, the rest of the
   * stream is drained in the background so the connection can be reused.
   */
  async #readEvents(
    res: UpstreamAnswer,
    requestId: number | undefined,
    state: { answered: boolean; lastEventId: string | undefined; retryMs: number },
  ): Promise<void> {
    // An aborted signal ends the read: it closes the connection (or cancels the fetch).
    const reader = res.events();
    for (let event = await reader.next(); event !== undefined; event = await reader.next()) {
      if (event.id !== undefined) state.lastEventId = event.id;
      if (event.retry !== undefined) state.retryMs = event.retry;
      if (this.#deliverEvent(event, requestId) && requestId !== undefined) {
        state.answered = true;
        break;
      }
    }
    if (state.answered) this.#drain(reader);
  }

  /** Reads the rest of an answer stream (at most 10 s), delivering what comes, then lets it go. */
  #drain(reader: SseReader): void {
    const limit = { at: Date.now() + DRAIN_LIMIT_MS, fire: () => reader.cancel() };
    deadlines.add(limit);
    (async () => {
      try {
        for (let event = await reader.next(); event !== undefined; event = await reader.next()) {
          this.#deliverEvent(event, undefined);
        }
      } catch {
        // The answer was already delivered; a broken tail of the stream loses nothing.
      } finally {
        deadlines.delete(limit);
      }
    })();
  }

  /** Opens a GET event stream, resuming after `lastEventId` when given. */
  #get(lastEventId: string | undefined, signal: AbortSignal): Promise<UpstreamAnswer> {
    return this.#http.send("GET", this.#headers(undefined, lastEventId), undefined, signal);
  }

  /** Delivers the messages of one event; true when the response to `requestId` was among them. */
  #deliverEvent(event: SseEvent, requestId: number | undefined): boolean {
    if (!this.#isMessageEvent(event)) return false;
    const parsed = this.#parse(event.data);
    const single = !Array.isArray(parsed);
    let answered = false;
    for (const item of single ? [parsed] : parsed) {
      const message = item as JsonRpcMessage;
      this.#deliver(message, requestId, single ? event.data : undefined);
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
      let res: UpstreamAnswer;
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
        await res.discard();
        return;
      }
      try {
        if (!isEventStream(res)) {
          await res.discard();
          throw new Error(`HTTP ${res.status}${redirectNote(res)}`);
        }
        failures = 0;
        const state = { answered: false, lastEventId, retryMs };
        await this.#readEvents(res, undefined, state);
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

/** Whether an answer is a 2xx event stream. */
function isEventStream(res: UpstreamAnswer): boolean {
  return res.status >= 200 && res.status < 300 &&
    (res.headers.get("content-type") ?? "").includes("text/event-stream");
}
