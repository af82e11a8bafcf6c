/**
 * The gateway's client side of one upstream session, over any {@link MessageTransport}: the
 * handshake in the upstream's era, its requests (each with an id of ours, a deadline and
 * cancellation: rpc_calls.ts) and one transparent re-initialize when the upstream expired our
 * session.
 *
 * Both eras: a legacy upstream gets `initialize` and a session; a 2026-07-28 upstream gets
 * `server/discover` and every request carries the gateway's `_meta` envelope (with the caller's
 * capabilities and log level). `era: auto` asks `server/discover` first and falls back to
 * `initialize` on the answers a legacy server gives (era_probe.ts). What the upstream sends on
 * its own is routed by inbound.ts.
 */
import { GatewayError } from "../mcp/errors.ts";
import { META, MODERN_PROTOCOL_VERSION, paramHeaders } from "../mcp/era.ts";
import type { JsonObject, JsonRpcMessage, JsonRpcNotification } from "../mcp/jsonrpc.ts";
import { isJsonObject as isObject } from "../mcp/jsonrpc.ts";
import { LATEST_PROTOCOL_VERSION } from "../mcp/protocol.ts";
import { describeError, type Logger } from "../log.ts";
import { type EraVerdict, judgeDiscover, judgeSibling, probeFailure } from "./era_probe.ts";
import { type InboundHandlers, InboundRouter } from "./inbound.ts";
import { PendingCalls, type RequestOptions } from "./rpc_calls.ts";
import { type MessageTransport, SessionExpiredError } from "./transport.ts";

/** What the upstream answered to `initialize` (or `server/discover`). */
export interface InitializeResult {
  protocolVersion: string;
  capabilities: JsonObject;
  serverInfo: JsonObject;
  instructions?: string;
}

/** Which era to speak: `auto` probes with `server/discover` first. */
export type EraSetting = "auto" | "legacy" | "modern";

/** Options of {@link RpcClient}. */
export interface RpcClientOptions {
  server: string;
  transport: MessageTransport;
  clientInfo: { name: string; version: string };
  /** Client capabilities declared to the upstream (a modern upstream gets them per request). */
  capabilities?: JsonObject;
  handlers?: InboundHandlers;
  log: Logger;
  /** Deadline of the handshake, in milliseconds. */
  timeoutMs: number;
  /** Which era to speak; `legacy` when absent. */
  era?: EraSetting;
  /**
   * For `auto` over stdio: a transport of its own for the probe, since a legacy server may not
   * survive a `server/discover` before `initialize` (spec 2026-07-28: stdio, compatibility).
   */
  probeTransport?(): MessageTransport;
  /** Learns which era the upstream turned out to speak (undefined: connecting failed, ask again). */
  onEra?(era: "legacy" | "modern" | undefined): void;
  /** Called when the upstream expired our session and it is re-initialized. */
  onSessionReset?(): void;
}

const HANDSHAKE = "initialize";
/** How long a stdio server gets to answer the probe: a legacy one may just stay silent. */
const STDIO_PROBE_MS = 5000;
const DISCOVER = "server/discover";

/** One upstream session seen as a JSON-RPC peer. */
export class RpcClient {
  readonly #options: RpcClientOptions;
  readonly #calls: PendingCalls;
  readonly #inbound: InboundRouter;
  #generation = 0;
  #reinit: Promise<void> | undefined;
  #closed = false;
  #opened = false;
  #initialized: InitializeResult | undefined;
  /** The 2026-07-28 revision spoken, once the upstream turned out modern. */
  #modern: string | undefined;

  constructor(options: RpcClientOptions) {
    this.#options = options;
    this.#calls = new PendingCalls({
      server: options.server,
      transport: options.transport,
      log: options.log,
      notify: (method, params) => this.notify(method, params),
    });
    this.#inbound = new InboundRouter({
      server: options.server,
      transport: options.transport,
      handlers: options.handlers,
      log: options.log,
      calls: this.#calls.inFlight,
      answer: (response) =>
        this.#closed
          ? undefined
          : options.transport.send(response, AbortSignal.timeout(options.timeoutMs)),
    });
  }

  /** The transport in use. */
  get transport(): MessageTransport {
    return this.#options.transport;
  }

  /** The handshake result, once connected. */
  get initializeResult(): InitializeResult | undefined {
    return this.#initialized;
  }

  /** The era spoken, once connected. */
  get era(): "legacy" | "modern" | undefined {
    if (this.#initialized === undefined) return undefined;
    return this.#modern === undefined ? "legacy" : "modern";
  }

  /**
   * Opens the transport and starts speaking: `server/discover` for a modern upstream,
   * `initialize` + `notifications/initialized` for a legacy one (`auto` finds out which).
   */
  async connect(signal?: AbortSignal): Promise<InitializeResult> {
    try {
      return await this.#connect(signal);
    } catch (error) {
      this.#options.onEra?.(undefined);
      throw error;
    }
  }

  async #connect(signal?: AbortSignal): Promise<InitializeResult> {
    const era = this.#options.era ?? "legacy";
    if (era !== "legacy") {
      const verdict = this.#options.probeTransport && era === "auto"
        ? await this.#probeSibling(signal)
        : await this.probe(signal);
      if (verdict.era === "modern") {
        await this.#open();
        this.#useModern(verdict.version, verdict.discover);
        this.#options.onEra?.("modern");
        return this.#initialized!;
      }
      if (verdict.era === "failed") throw probeFailure(this.#options.server, verdict.error);
      if (era === "modern") {
        throw new GatewayError(
          "upstream_protocol_error",
          this.#options.server,
          `Upstream '${this.#options.server}' does not speak MCP 2026-07-28 (era: modern): ${verdict.evidence}`,
        );
      }
      this.#options.log.debug("upstream speaks a 2025 revision", { evidence: verdict.evidence });
    }
    await this.#open();
    await this.#handshake(signal);
    this.#options.onEra?.("legacy");
    return this.#initialized!;
  }

  /** Probes on a short-lived transport of its own (era_probe.ts judges what that shows). */
  async #probeSibling(signal?: AbortSignal): Promise<EraVerdict> {
    const sibling = new RpcClient({
      server: this.#options.server,
      transport: this.#options.probeTransport!(),
      clientInfo: this.#options.clientInfo,
      log: this.#options.log,
      timeoutMs: Math.min(this.#options.timeoutMs, STDIO_PROBE_MS),
      era: "modern",
      ...(this.#options.capabilities ? { capabilities: this.#options.capabilities } : {}),
    });
    try {
      return judgeSibling(await sibling.probe(signal));
    } finally {
      await sibling.close();
    }
  }

  /** Asks `server/discover` (as a 2026-07-28 client) and judges which era the answer shows. */
  async probe(signal?: AbortSignal): Promise<EraVerdict> {
    await this.#open();
    try {
      const result = await this.#sendModern(MODERN_PROTOCOL_VERSION, DISCOVER, undefined, {
        timeoutMs: this.#options.timeoutMs,
        ...(signal ? { signal } : {}),
      });
      return judgeDiscover({ result });
    } catch (error) {
      return judgeDiscover({ error });
    }
  }

  /** Sends a request and resolves with its result; upstream JSON-RPC errors reject as McpError, unchanged. */
  request(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
  ): Promise<JsonObject> {
    if (this.#closed) {
      const server = this.#options.server;
      return Promise.reject(
        new GatewayError("upstream_closed", server, `Upstream '${server}' is closed`),
      );
    }
    if (this.#modern !== undefined) return this.#sendModern(this.#modern, method, params, options);
    const generation = this.#generation;
    return this.#calls.send(method, params, options).catch((error) =>
      this.#retryExpired(error, generation, method, params, options)
    );
  }

  /** Sends a request again once, in a new session, when the upstream had expired ours. */
  async #retryExpired(
    error: unknown,
    generation: number,
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
  ): Promise<JsonObject> {
    if (!(error instanceof SessionExpiredError) || method === HANDSHAKE) throw error;
    this.#options.log.info("upstream session expired; re-initializing", { method });
    this.#options.onSessionReset?.();
    await this.#reinitialize(generation, options.signal);
    try {
      return await this.#calls.send(method, params, options);
    } catch (retryError) {
      if (!(retryError instanceof SessionExpiredError)) throw retryError;
      const server = this.#options.server;
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Upstream '${server}' rejected a new session at once; the request was not processed`,
        { cause: retryError },
      );
    }
  }

  /**
   * Sends a notification. A 2026-07-28 upstream over HTTP takes none (closing a stream is its
   * cancellation, and roots changes are not announced), so nothing is sent to it there.
   */
  async notify(method: string, params?: JsonObject): Promise<void> {
    if (this.#modern !== undefined && this.#options.transport.kind !== "stdio") return;
    const message: JsonRpcNotification = params === undefined
      ? { jsonrpc: "2.0", method }
      : { jsonrpc: "2.0", method, params };
    await this.#options.transport.send(message, AbortSignal.timeout(this.#options.timeoutMs));
  }

  /** Rejects every pending request and closes the transport. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.failAll(
      new GatewayError(
        "upstream_closed",
        this.#options.server,
        `Upstream '${this.#options.server}' was stopped`,
      ),
    );
    this.#inbound.abortAll();
    await this.#options.transport.close();
  }

  async #open(): Promise<void> {
    if (this.#opened) return;
    this.#opened = true;
    await this.#options.transport.open(
      (message, relatedTo, source) => this.#receive(message, relatedTo, source),
      (error) => this.#onTransportClose(error),
    );
  }

  #useModern(version: string, discover: JsonObject): void {
    const meta = isObject(discover._meta) ? discover._meta : {};
    const serverInfo = meta[META.serverInfo];
    this.#modern = version;
    this.#initialized = {
      protocolVersion: version,
      capabilities: isObject(discover.capabilities) ? discover.capabilities : {},
      serverInfo: isObject(serverInfo) ? serverInfo : {},
      ...(typeof discover.instructions === "string" ? { instructions: discover.instructions } : {}),
    };
    this.#options.transport.initialized(version);
  }

  async #handshake(signal?: AbortSignal): Promise<void> {
    const params: JsonObject = {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: this.#options.capabilities ?? {},
      clientInfo: this.#options.clientInfo,
    };
    const result = await this.#calls.send(HANDSHAKE, params, {
      timeoutMs: this.#options.timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (typeof result.protocolVersion !== "string") {
      throw new GatewayError(
        "upstream_protocol_error",
        this.#options.server,
        `Upstream '${this.#options.server}' answered initialize without a protocolVersion`,
      );
    }
    this.#initialized = {
      protocolVersion: result.protocolVersion,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
      serverInfo: isObject(result.serverInfo) ? result.serverInfo : {},
      ...(typeof result.instructions === "string" ? { instructions: result.instructions } : {}),
    };
    this.#options.transport.initialized(result.protocolVersion);
    await this.notify("notifications/initialized");
  }

  #reinitialize(generation: number, signal?: AbortSignal): Promise<void> {
    if (generation !== this.#generation) return Promise.resolve();
    this.#reinit ??= (async () => {
      try {
        this.#options.transport.resetSession();
        await this.#handshake(signal);
        this.#generation++;
      } finally {
        this.#reinit = undefined;
      }
    })();
    return this.#reinit;
  }

  /**
   * Sends one request as a 2026-07-28 one: the gateway's envelope in its `_meta`, and the called
   * tool's `x-mcp-header` params mirrored in headers.
   */
  #sendModern(
    version: string,
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
  ): Promise<JsonObject> {
    const envelope: JsonObject = {
      [META.protocolVersion]: version,
      [META.clientInfo]: this.#options.clientInfo,
      [META.clientCapabilities]: options.clientCapabilities ?? this.#options.capabilities ?? {},
    };
    if (options.logLevel !== undefined) envelope[META.logLevel] = options.logLevel;
    const headers = options.toolSchema === undefined
      ? undefined
      : paramHeaders(options.toolSchema, params?.arguments);
    return this.#calls.send(method, params, options, envelope, headers);
  }

  #receive(message: JsonRpcMessage, relatedTo?: number, source?: string): void {
    if (!("method" in message)) return this.#calls.settle(message, source);
    if ("id" in message && message.id !== undefined && message.id !== null) {
      this.#inbound.request(message, relatedTo);
    } else {
      this.#inbound.notification(message, relatedTo);
    }
  }

  #onTransportClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const server = this.#options.server;
    this.#calls.failAll(
      error instanceof GatewayError ? error : new GatewayError(
        "upstream_disconnected",
        server,
        `Upstream '${server}' disconnected${error ? `: ${describeError(error)}` : ""}`,
        error ? { cause: error } : undefined,
      ),
    );
    this.#inbound.abortAll();
    this.#options.handlers?.onClose?.(error);
  }
}
