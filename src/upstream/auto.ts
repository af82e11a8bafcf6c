/**
 * `protocol: auto`: speak Streamable HTTP, and fall back to legacy HTTP+SSE when the initialize
 * POST is answered 400, 404 or 405 (spec 2025-11-25, backwards compatibility).
 */
import { GatewayError } from "../mcp/errors.ts";
import type { JsonRpcMessage } from "../mcp/jsonrpc.ts";
import { isModernError } from "../mcp/era.ts";
import type { Logger } from "../log.ts";
import type { HttpClientStatus } from "./http_exchange.ts";
import type { Deliver, MessageTransport } from "./transport.ts";

const FALLBACK_STATUSES = new Set([400, 404, 405]);

/** A transport that starts as Streamable HTTP and may become legacy SSE during the handshake. */
export class AutoTransport implements MessageTransport {
  #current: MessageTransport;
  readonly #legacy: () => MessageTransport;
  readonly #log: Logger;
  #deliver: Deliver = () => {};
  #onClose: (error?: Error) => void = () => {};

  constructor(streamable: MessageTransport, legacy: () => MessageTransport, log: Logger) {
    this.#current = streamable;
    this.#legacy = legacy;
    this.#log = log;
  }

  /** The transport actually in use. */
  get kind(): MessageTransport["kind"] {
    return this.#current.kind;
  }

  /** The HTTP client of the transport in use. */
  get httpClient(): HttpClientStatus | undefined {
    return this.#current.httpClient;
  }

  /** Whether the transport in use ties messages to requests. */
  get correlates(): boolean {
    return this.#current.correlates;
  }

  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    this.#deliver = deliver;
    this.#onClose = onClose;
    return this.#current.open(deliver, onClose);
  }

  async send(
    message: JsonRpcMessage,
    signal: AbortSignal,
    headers?: Record<string, string>,
  ): Promise<void> {
    try {
      await this.#current.send(message, signal, headers);
    } catch (error) {
      const isInitialize = "method" in message && message.method === "initialize";
      if (
        !isInitialize || this.#current.kind !== "streamable" || !(error instanceof GatewayError) ||
        error.status === undefined || !FALLBACK_STATUSES.has(error.status)
      ) throw error;
      if (error.rpcCode !== undefined && isModernError(error.rpcCode)) {
        // A 2026-07-28 server refused our 2025 handshake: legacy SSE would only hide why.
        throw error;
      }
      this.#log.info("upstream refused Streamable HTTP; trying legacy HTTP+SSE", {
        status: error.status,
      });
      await this.#current.close();
      this.#current = this.#legacy();
      await this.#current.open(this.#deliver, this.#onClose);
      await this.#current.send(message, signal);
    }
  }

  initialized(protocolVersion: string): void {
    this.#current.initialized(protocolVersion);
  }

  resetSession(): void {
    this.#current.resetSession();
  }

  close(): Promise<void> {
    return this.#current.close();
  }
}
