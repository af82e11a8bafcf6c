/**
 * Streamable HTTP upstream transport (MCP 2025-11-25 §Transports) on the native HTTP/1.1 client
 * (or `fetch`, see `http_exchange.ts`): POST per message and its JSON answer or HTTP error here;
 * the session's headers in streamable_session.ts; SSE answers (resumed with `Last-Event-ID`) and
 * the GET stream for unsolicited messages in streamable_sse.ts. Redirects are refused, never
 * followed.
 */
import { GatewayError } from "../mcp/errors.ts";
import {
  isJsonObject,
  type JsonRpcErrorObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { isModernVersion } from "../mcp/era.ts";
import {
  createUpstreamHttp,
  type HttpClientStatus,
  type UpstreamAnswer,
  type UpstreamHttp,
} from "./http_exchange.ts";
import { modernVersionOf, StreamableSession } from "./streamable_session.ts";
import { parseMessage, StreamableSse } from "./streamable_sse.ts";
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

/** One Streamable HTTP session with an upstream. */
export class StreamableHttpTransport implements MessageTransport {
  readonly kind = "streamable" as const;
  readonly correlates = true;
  readonly #options: StreamableOptions;
  readonly #http: UpstreamHttp;
  readonly #session: StreamableSession;
  readonly #streams: StreamableSse;
  readonly #closing = new AbortController();
  #deliver: Deliver = () => {};
  #listener: AbortController | undefined;

  constructor(options: StreamableOptions) {
    this.#options = options;
    this.#http = createUpstreamHttp({
      url: options.url,
      choice: options.client ?? { mode: "fetch", reason: "a fetch function was given" },
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      log: options.log,
    });
    this.#session = new StreamableSession(options);
    this.#streams = new StreamableSse({
      ...options,
      maxResumes: options.maxResumes ?? 3,
      http: this.#http,
      session: this.#session,
    });
  }

  /** The HTTP client in use, as shown in `/health`. */
  get httpClient(): HttpClientStatus {
    return this.#http.status;
  }

  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    this.#deliver = deliver;
    this.#streams.open(deliver, onClose);
    return Promise.resolve();
  }

  initialized(protocolVersion: string): void {
    // A 2026-07-28 upstream has no GET stream: the supervisor listens with subscriptions/listen.
    if (isModernVersion(protocolVersion)) return;
    this.#session.initialized(protocolVersion);
    this.#listener?.abort();
    this.#listener = new AbortController();
    this.#streams.listen(AbortSignal.any([this.#listener.signal, this.#closing.signal]));
  }

  resetSession(): void {
    this.#listener?.abort();
    this.#session.reset();
  }

  async send(
    message: JsonRpcMessage,
    signal: AbortSignal,
    extra?: Record<string, string>,
  ): Promise<void> {
    const server = this.#options.server;
    const modern = modernVersionOf(message);
    const sentSession = modern === undefined ? this.#session.id : undefined;
    let res: UpstreamAnswer;
    try {
      const headers = modern === undefined
        ? this.#session.post()
        : this.#session.modern(message as JsonRpcRequest, modern, extra);
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
    if (session !== null) this.#session.adopt(session);
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("text/event-stream")) {
      await this.#streams.answer(res, requestId!, signal);
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
    const parsed = parseMessage(text, this.#options);
    if (!Array.isArray(parsed)) this.#deliver(parsed as JsonRpcMessage, requestId, text);
    else for (const item of parsed) this.#deliver(item as JsonRpcMessage, requestId);
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    if (this.#session.id !== undefined) {
      try {
        const headers = this.#session.withoutBody();
        const res = await this.#http.send("DELETE", headers, undefined, AbortSignal.timeout(2000));
        await res.discard();
      } catch {
        // Ending the session is a courtesy (spec: clients SHOULD send DELETE); the upstream may be gone.
      }
    }
    this.#http.close();
  }

  #serialize(message: JsonRpcMessage): string {
    const body = JSON.stringify(message);
    this.#options.countBytes?.("sent", body.length);
    return body;
  }
}
