/**
 * The event streams of a Streamable HTTP session (MCP 2025-11-25 §Transports): the SSE answer of
 * a request, read until its response and resumed with GET + `Last-Event-ID` when it breaks after
 * an event id, and the GET stream for messages not tied to a request, reopened with backoff.
 */
import { GatewayError } from "../mcp/errors.ts";
import type { JsonRpcMessage } from "../mcp/jsonrpc.ts";
import type { SseEvent } from "../http/sse.ts";
import { describeError } from "../log.ts";
import { delay } from "./clock.ts";
import { deadlines } from "./deadlines.ts";
import type { SseReader, UpstreamAnswer, UpstreamHttp } from "./http_exchange.ts";
import type { StreamableSession } from "./streamable_session.ts";
import {
  type ByteCounter,
  type Deliver,
  type HttpTransportOptions,
  redirectNote,
  unreachable,
} from "./transport.ts";

/** Options of {@link StreamableSse}. */
export interface StreamableSseOptions
  extends Pick<HttpTransportOptions, "server" | "log" | "normalizeSseEvents" | "countBytes"> {
  /** How many times a broken answer stream is resumed before giving up. */
  maxResumes: number;
  /** The session's HTTP client, for the GET streams. */
  http: UpstreamHttp;
  /** The session whose headers the GET streams carry. */
  session: StreamableSession;
}

/** What an upstream's message is read with: its name for errors, and the byte counter. */
interface ParseOptions {
  server: string;
  countBytes?: ByteCounter | undefined;
}

/** Where a stream's reading stands, carried across a resumption. */
interface ReadState {
  answered: boolean;
  lastEventId: string | undefined;
  retryMs: number;
}

const IGNORED_EVENTS = new Set(["ping", "keepalive", "heartbeat"]);
const DEFAULT_RETRY_MS = 1000;
const DRAIN_LIMIT_MS = 10_000;

/** Parses one message (or batch) an upstream sent, counting its bytes. */
export function parseMessage(text: string, options: ParseOptions): unknown {
  options.countBytes?.("received", text.length);
  try {
    return JSON.parse(text);
  } catch {
    const server = options.server;
    throw new GatewayError(
      "upstream_protocol_error",
      server,
      `Upstream '${server}' sent a message that is not valid JSON`,
    );
  }
}

/** Reads the event streams of one Streamable HTTP session. */
export class StreamableSse {
  readonly #options: StreamableSseOptions;
  #deliver: Deliver = () => {};
  #onClose: (error?: Error) => void = () => {};

  constructor(options: StreamableSseOptions) {
    this.#options = options;
  }

  /** Starts delivering: every message read goes to `deliver`; a lost GET stream to `onClose`. */
  open(deliver: Deliver, onClose: (error?: Error) => void): void {
    this.#deliver = deliver;
    this.#onClose = onClose;
  }

  /** Reads an answer stream until the response to `requestId`; resumes with GET + Last-Event-ID if it breaks. */
  async answer(first: UpstreamAnswer, requestId: number, signal: AbortSignal): Promise<void> {
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
      if (lastEventId === undefined || resumes >= this.#options.maxResumes) {
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
   * The GET stream for messages not tied to a request, reopened with backoff. A refused
   * reconnect means the upstream is gone, so the session is reported closed at once.
   */
  async listen(signal: AbortSignal): Promise<void> {
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

  /**
   * Delivers every message of one SSE body. Once the awaited response arrived, the rest of the
   * stream is drained in the background so the connection can be reused.
   */
  async #readEvents(
    res: UpstreamAnswer,
    requestId: number | undefined,
    state: ReadState,
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
    const headers = this.#options.session.withoutBody(lastEventId);
    return this.#options.http.send("GET", headers, undefined, signal);
  }

  /** Delivers the messages of one event; true when the response to `requestId` was among them. */
  #deliverEvent(event: SseEvent, requestId: number | undefined): boolean {
    if (!this.#isMessageEvent(event)) return false;
    const parsed = parseMessage(event.data, this.#options);
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
}

/** Whether an answer is a 2xx event stream. */
function isEventStream(res: UpstreamAnswer): boolean {
  return res.status >= 200 && res.status < 300 &&
    (res.headers.get("content-type") ?? "").includes("text/event-stream");
}
