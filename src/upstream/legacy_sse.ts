/**
 * Legacy HTTP+SSE upstream transport (MCP 2024-11-05): a GET opens the event stream, whose first
 * `endpoint` event names the URL to POST messages to; every server message arrives on the
 * stream. Losing the stream ends the session (the supervisor then reconnects).
 */
import { GatewayError } from "../mcp/errors.ts";
import type { JsonRpcMessage } from "../mcp/jsonrpc.ts";
import { SseDecoderStream, type SseEvent } from "../http/sse.ts";
import { redactUrl } from "../config/net.ts";
import { describeError } from "../log.ts";
import {
  type Deliver,
  type FetchLike,
  type HttpTransportOptions,
  type MessageTransport,
  redirectNote,
  unreachable,
} from "./transport.ts";

/** Options of {@link LegacySseTransport}. */
export interface LegacySseOptions extends HttpTransportOptions {
  /** How long to wait for the `endpoint` event. */
  timeoutMs: number;
}

const IGNORED_EVENTS = new Set(["ping", "keepalive", "heartbeat"]);

/** One legacy SSE session with an upstream. */
export class LegacySseTransport implements MessageTransport {
  readonly kind = "sse" as const;
  readonly correlates = false;
  readonly #options: LegacySseOptions;
  readonly #fetch: FetchLike;
  readonly #closing = new AbortController();
  #endpoint: string | undefined;
  #reader: ReadableStreamDefaultReader<SseEvent> | undefined;

  constructor(options: LegacySseOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    const { server, url } = this.#options;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method: "GET",
        headers: {
          ...this.#options.headers,
          accept: "text/event-stream",
          "user-agent": this.#options.userAgent,
        },
        // A redirect would carry the configured headers (credentials) to wherever it points.
        redirect: "manual",
        signal: this.#closing.signal,
      });
    } catch (error) {
      throw unreachable(server, error);
    }
    if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      await res.body?.cancel();
      throw new GatewayError(
        "upstream_http_error",
        server,
        `Upstream '${server}' answered the SSE stream request with HTTP ${res.status}${
          redirectNote(res)
        }`,
        { status: res.status },
      );
    }
    const endpoint = Promise.withResolvers<string>();
    const reader = this.#reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
      new SseDecoderStream(),
    ).getReader();
    (async () => {
      let failure: Error | undefined;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (value.event === "endpoint") endpoint.resolve(this.#endpointUrl(value.data));
          else if (this.#isMessage(value)) {
            this.#options.countBytes?.("received", value.data.length);
            const parsed = JSON.parse(value.data);
            for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
              deliver(item as JsonRpcMessage);
            }
          }
        }
      } catch (error) {
        failure = error instanceof SyntaxError
          ? new GatewayError(
            "upstream_protocol_error",
            server,
            `Upstream '${server}' sent a message that is not valid JSON`,
          )
          : error as Error;
        await reader.cancel().catch(() => {});
      }
      if (this.#closing.signal.aborted) return;
      const lost = failure instanceof GatewayError ? failure : new GatewayError(
        "upstream_disconnected",
        server,
        `Upstream '${server}' closed its event stream${
          failure ? `: ${describeError(failure)}` : ""
        }`,
      );
      endpoint.reject(lost);
      onClose(lost);
    })();
    const timer = setTimeout(
      () =>
        endpoint.reject(
          new GatewayError(
            "upstream_protocol_error",
            server,
            `Upstream '${server}' sent no endpoint event`,
          ),
        ),
      this.#options.timeoutMs,
    );
    try {
      this.#endpoint = await endpoint.promise;
    } catch (error) {
      this.#closing.abort();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async send(message: JsonRpcMessage, signal: AbortSignal): Promise<void> {
    const server = this.#options.server;
    if (this.#endpoint === undefined) {
      throw new GatewayError("upstream_closed", server, `Upstream '${server}' has no open session`);
    }
    let res: Response;
    try {
      res = await this.#fetch(this.#endpoint, {
        method: "POST",
        headers: {
          ...this.#options.headers,
          "content-type": "application/json",
          accept: this.#options.accept ?? "application/json, text/event-stream",
          "user-agent": this.#options.userAgent,
        },
        body: this.#serialize(message),
        redirect: "manual",
        signal: AbortSignal.any([signal, this.#closing.signal]),
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(server, error);
    }
    await res.body?.cancel();
    if (!res.ok) {
      throw new GatewayError(
        "upstream_http_error",
        server,
        `Upstream '${server}' answered a message with HTTP ${res.status}${redirectNote(res)}`,
        { status: res.status },
      );
    }
  }

  /**
   * The URL an `endpoint` event names, resolved against the stream's URL. Messages carry the
   * configured headers, so the endpoint must be on the configured origin: a server (or whoever
   * controls its stream) cannot have the credentials sent elsewhere.
   */
  #endpointUrl(data: string): string {
    const { server, url } = this.#options;
    const configured = new URL(url);
    const endpoint = URL.parse(data.trim(), configured);
    if (endpoint === null || endpoint.origin !== configured.origin) {
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Cannot use the endpoint of upstream '${server}': '${
          redactUrl(data.trim())
        }' is not on the origin of its url ('${configured.origin}'), and messages carry its headers`,
      );
    }
    return endpoint.href;
  }

  #serialize(message: JsonRpcMessage): string {
    const body = JSON.stringify(message);
    this.#options.countBytes?.("sent", body.length);
    return body;
  }

  initialized(): void {}

  resetSession(): void {}

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#reader?.cancel().catch(() => {});
  }

  #isMessage(event: SseEvent): boolean {
    if (event.data.trim() === "") return false;
    if (event.event === undefined || event.event === "message") return true;
    return this.#options.normalizeSseEvents === true && !IGNORED_EVENTS.has(event.event);
  }
}
