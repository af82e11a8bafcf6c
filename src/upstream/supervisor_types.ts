/** The shapes around a supervisor: the client it drives, its options, events and status. */
import type { Logger } from "../log.ts";
import type { JsonObject, JsonRpcNotification, JsonRpcRequest } from "../mcp/jsonrpc.ts";
import type { Clock } from "./clock.ts";
import type { GuardPolicy } from "./guarded.ts";
import type { HttpClientStatus } from "./http_exchange.ts";
import type { InboundHandlers } from "./inbound.ts";
import type { SessionRef } from "./instances.ts";
import type { UpstreamLists } from "./lists.ts";
import type { RequestOptions } from "./rpc_calls.ts";
import type { InitializeResult } from "./rpc_client.ts";

/** One upstream session, whatever the transport behind it (`RpcClient` is the implementation). */
export interface UpstreamClient {
  readonly transport: { readonly kind: string; readonly httpClient?: HttpClientStatus | undefined };
  /** The era spoken, once connected. */
  readonly era: "legacy" | "modern" | undefined;
  readonly initializeResult: InitializeResult | undefined;
  connect(signal?: AbortSignal): Promise<InitializeResult>;
  request(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions,
  ): Promise<JsonObject>;
  notify(method: string, params?: JsonObject): Promise<void>;
  close(): Promise<void>;
}

/** What a supervisor reports as it works, for metrics. */
export interface UpstreamEvents {
  /** An initialize handshake finished. */
  initialized(ok: boolean, seconds: number): void;
  /** A listing of tools, prompts and resources finished. */
  refreshed(ok: boolean, seconds: number): void;
  /** A health check (a connect, a refresh or a ping) finished. */
  checked(ok: boolean): void;
  /** An attempt to connect after a failure finished. */
  reconnected(ok: boolean): void;
  /** A wait before reconnecting ended. */
  backedOff(seconds: number): void;
  /** A request that is safe to repeat was sent again. */
  retried(): void;
  /** The upstream session ended on its own (a child exited, a stream was lost). */
  lost(): void;
}

/** The parts of a server's config the supervisor uses. */
export interface SupervisedConfig extends GuardPolicy {
  reconnect: { max_attempts: number; backoff_base_ms: number; backoff_max_ms: number };
  tools: { ttl_seconds: number };
}

/** Options of {@link Supervisor.request}. */
export type UpstreamRequestOptions = Omit<RequestOptions, "timeoutMs"> & {
  timeoutMs?: number;
  /** The downstream session, for servers with one instance per session. */
  session?: SessionRef;
  /** The tool is annotated `idempotentHint: true`, so a failed call may be sent again. */
  idempotent?: boolean;
};

/** Lifecycle states shown in `/health`. */
export type UpstreamPhase = "connecting" | "connected" | "backoff" | "failed" | "stopped";

/** A snapshot of one upstream's health. */
export interface UpstreamStatus {
  phase: UpstreamPhase;
  /** The current reconnect delay; 0 when not waiting. */
  backoffMs: number;
  /** Per-session instances running. */
  instances: number;
  connected: boolean;
  transport: string | undefined;
  /** The HTTP client of an HTTP transport: native, or fetch and why. */
  httpClient: HttpClientStatus | undefined;
  toolsCount: number;
  lastSeen: number | undefined;
  reconnects: number;
  lastError: string | undefined;
  /** The lists are those of an earlier connection: the upstream is not connected now. */
  stale: boolean;
  /** The era and protocol revision spoken, while connected. */
  era: "legacy" | "modern" | undefined;
  protocolVersion: string | undefined;
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  config: SupervisedConfig;
  /** Lists to keep (stale) until the first connection: those of the instance this one replaces. */
  lists?: UpstreamLists;
  /** Creates a fresh, unconnected client for a new upstream session. */
  createClient(handlers: InboundHandlers, capabilities?: JsonObject): UpstreamClient;
  /** Set for servers with one upstream instance per downstream session. */
  perSession?: { maxInstances: number };
  clock: Clock;
  log: Logger;
  /** Called whenever the tools or the connection state changed. */
  onChange(): void;
  /** Receives what the supervisor does, for metrics. */
  events?: UpstreamEvents;
  /**
   * Hides secrets (URL credentials, tokens) in error text before it is kept for `/health`,
   * logged or handed to a client.
   */
  redact?(text: string): string;
  /** Notifications not tied to a request; `sessionId` names the session of a per-session instance. */
  onNotification?(notification: JsonRpcNotification, sessionId?: string): void;
  /** Server→client requests not tied to a request of ours, likewise. */
  onRequest?(
    request: JsonRpcRequest,
    sessionId: string | undefined,
    signal: AbortSignal,
  ): Promise<JsonObject>;
}
