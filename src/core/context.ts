/**
 * What one request carries through the era-neutral core, whichever endpoint it came in by: the
 * 2025 session endpoint fills it from the session, the 2026-07-28 endpoint from the request's
 * envelope. Session state is a lookup beside the request path, not woven through it.
 */
import type { Identity } from "../http/auth.ts";
import type { JsonObject, JsonRpcNotification } from "../mcp/jsonrpc.ts";
import type { Catalog } from "../upstream/catalog.ts";
import type { Supervisor } from "../upstream/supervisor.ts";

/** What a client keeps between requests that the core reads or changes. */
export interface SessionState {
  /** The minimum level the client asked for (logging/setLevel, or a 2026 envelope). */
  logLevel: string | undefined;
  /** Exposed resource URIs the client subscribed to. */
  readonly subscriptions: Set<string>;
}

/** What a method handler gets besides its params. */
export interface CallContext {
  /** The key of the caller's own upstream instances (its session, or its principal without one). */
  readonly sessionId: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: JsonObject;
  /** Who is asking, with their scopes (when auth is on). */
  readonly identity: Identity | undefined;
  readonly state: SessionState;
  /** Aborted when the client cancels the request or the session ends. */
  readonly signal: AbortSignal;
  /** Sends a notification related to this request (on its own stream when it streams). */
  notify(notification: JsonRpcNotification): void;
  /**
   * Asks the client something on behalf of an upstream (sampling, elicitation, roots): a real
   * request on the request's stream (2025), or an `input_required` round (2026-07-28); rejects
   * with an McpError when the client did not declare the capability.
   */
  ask(request: { method: string; params?: JsonObject }, signal: AbortSignal): Promise<JsonObject>;
}

/** The upstreams as the core sees them. */
export interface UpstreamDirectory {
  /** The current merged catalog. */
  catalog(): Catalog;
  /** Every supervisor, in config order. */
  supervisors(): readonly Supervisor[];
  /** The supervisor of a server. */
  supervisor(server: string): Supervisor | undefined;
}

/** One method of the core. */
export type MethodHandler = (
  params: JsonObject | undefined,
  context: CallContext,
) => Promise<JsonObject> | JsonObject;
