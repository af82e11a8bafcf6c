/**
 * The request-facing parts of a gateway, built from the config at start and at every reload:
 * the core with meta-tool mode over it, authentication, the Host/Origin guard, and the adapters
 * that serve clients (the `/mcp` endpoint of both eras and the REST facade).
 */
import type { Config } from "./config/mod.ts";
import { createDispatcher, type Dispatcher, type UpstreamDirectory } from "./core/dispatcher.ts";
import type { InputFlows } from "./core/input_flows.ts";
import type { Subscriptions } from "./core/subscriptions.ts";
import type { ClientLimits } from "./downstream/client_limits.ts";
import type { Listeners } from "./downstream/listen.ts";
import { createMcpEndpoint, type McpEndpoint } from "./downstream/mcp_endpoint.ts";
import { withMetaTools } from "./downstream/meta_tools.ts";
import { createModernEndpoint } from "./downstream/modern_endpoint.ts";
import { createRestApi, type RestApi } from "./downstream/rest.ts";
import { createSessionEndpoint } from "./downstream/session_endpoint.ts";
import type { SessionStore } from "./downstream/sessions.ts";
import type { AdmissionOptions, JsonBodyLimits } from "./http/admission.ts";
import {
  type Authenticator,
  type AuthResult,
  basicAuthenticator,
  bearerAuthenticator,
  keysAuthenticator,
} from "./http/auth.ts";
import { createOriginGuard, type OriginGuard } from "./http/origin.ts";
import type { Logger } from "./log.ts";
import { MODERN_VERSIONS } from "./mcp/era.ts";
import { SUPPORTED_PROTOCOL_VERSIONS } from "./mcp/protocol.ts";
import { type GatewayMetrics, methodLabel } from "./metrics/mod.ts";
import type { Forwarder } from "./state/mod.ts";
import type { ListKind } from "./upstream/lists.ts";
import type { Supervisor } from "./upstream/supervisor.ts";

/** The request-facing parts. */
export interface Front {
  endpoint: McpEndpoint;
  rest: RestApi;
  dispatcher: Dispatcher;
  /** Present when downstream auth is on. */
  authenticate: Authenticator | undefined;
  guard: OriginGuard;
  admission: AdmissionOptions;
}

/** What the front is built over: the gateway's long-lived state. */
export interface FrontParts {
  upstreams: UpstreamDirectory;
  subscriptions: Subscriptions;
  sessions: SessionStore;
  flows: InputFlows;
  listeners: Listeners;
  clientLimits: ClientLimits;
  metrics: GatewayMetrics;
  log: Logger;
  version: string;
  /** How often idle answer and listen streams send a keep-alive comment. */
  keepAliveMs: number;
  /** False once shutdown began. */
  accepting(): boolean;
  /** Set on a cluster replica. */
  cluster?: { forwarder: Forwarder; hosts: readonly string[] };
}

/** How often idle answer and listen streams send a keep-alive comment, unless told otherwise. */
export const KEEPALIVE_MS = 25_000;

/** Builds the front for one config. */
export function buildFront(config: Config, parts: FrontParts): Front {
  const { metrics, upstreams } = parts;
  const forwarder = parts.cluster?.forwarder;
  const serverInfo = { name: "mcpstead", version: parts.version };
  const dispatcher = withMetaTools(createCore(config, parts), {
    toolsMode: config.mcp.tools_mode,
    pinned: config.mcp.pinned,
    pageSize: config.mcp.page_size,
  });
  const authenticate = createAuthenticator(config.mcp.auth);
  const guard = createOriginGuard({
    bindHost: config.host,
    allowedHosts: [...config.mcp.allowed_hosts, ...(parts.cluster?.hosts ?? [])],
    allowedOrigins: config.mcp.allowed_origins,
  });
  const admission: AdmissionOptions = {
    guard,
    authenticate,
    maxHeaderBytes: config.mcp.limits.max_header_bytes,
    onAuth: (result) => countAuth(metrics, result),
  };
  const limits = config.mcp.limits;
  const bodyLimits: JsonBodyLimits = {
    maxBodyBytes: config.mcp.max_body_bytes,
    bodyTimeoutMs: limits.body_timeout_seconds * 1000,
    maxJsonDepth: limits.max_json_depth,
    maxJsonValues: limits.max_json_values,
  };
  const limitClient = (key: string) => parts.clientLimits.limit(key);
  const onRateLimited = (client: string) =>
    metrics.rateLimited.inc({ scope: "client", name: client });
  const onMessage = (method: unknown, ok: boolean, seconds: number, client?: string) => {
    const label = methodLabel(method);
    metrics.requests.inc({ method: label, result: ok ? "success" : "error" });
    metrics.requestDuration.observe({ method: label }, seconds);
    if (client !== undefined) metrics.clientRequests.inc({ client });
  };
  const rest = createRestApi({
    dispatcher,
    catalog: () => upstreams.catalog(),
    admission,
    bodyLimits,
    limitClient,
    onRateLimited,
    release: (sessionId) => {
      for (const supervisor of upstreams.supervisors()) supervisor.releaseSession(sessionId);
    },
    accepting: parts.accepting,
  });
  const session = createSessionEndpoint({
    sessions: parts.sessions,
    dispatcher,
    caps: { perClient: limits.max_sessions_per_client, total: limits.max_sessions },
    maxInitializeBytes: Math.min(config.mcp.max_body_bytes, limits.max_initialize_bytes),
    limitClient,
    streamBufferBytes: limits.stream_buffer_bytes,
    maxBatchSize: limits.max_batch,
    keepAliveMs: parts.keepAliveMs,
    log: parts.log,
    accepting: parts.accepting,
    observer: {
      message: onMessage,
      rateLimited: onRateLimited,
      sessionCreated: () => metrics.sessionsTotal.inc(),
    },
    ...(forwarder
      ? {
        forward: (session, message, text, req) =>
          forwarder.instance(session.id, message, text, req),
      }
      : {}),
  });
  const modern = createModernEndpoint({
    dispatcher,
    flows: parts.flows,
    listeners: parts.listeners,
    serverInfo,
    supportedVersions: [...MODERN_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
    cacheHints: (_identity, kind) => cacheHints(config, upstreams.supervisors(), kind),
    toolSchema: (name) => upstreams.catalog().toolInfo(name)?.inputSchema,
    limitClient,
    streamBufferBytes: limits.stream_buffer_bytes,
    keepAliveMs: parts.keepAliveMs,
    log: parts.log,
    onMessage,
    onRateLimited,
  });
  const endpoint = createMcpEndpoint({
    admission,
    bodyLimits,
    maxInitializeBytes: limits.max_initialize_bytes,
    session,
    modern,
    onInvalid: () => onMessage("invalid", false, 0),
    ...(forwarder
      ? {
        forwarded: (proof, text) => forwarder.verify(proof, text),
        route: (message, text, req, principal) => forwarder.modern(message, text, req, principal),
      }
      : {}),
  });
  return { endpoint, rest, dispatcher, authenticate, guard, admission };
}

/** The era-neutral core, with tool calls recorded as metrics. */
function createCore(config: Config, parts: FrontParts): Dispatcher {
  const { metrics } = parts;
  return createDispatcher({
    upstreams: parts.upstreams,
    subscriptions: parts.subscriptions,
    sessionLogLevels: () =>
      [...parts.sessions.values()].flatMap((s) => (s.logLevel === undefined ? [] : [s.logLevel])),
    serverInfo: { name: "mcpstead", version: parts.version },
    pageSize: config.mcp.page_size,
    onToolCall: (server, tool, outcome, seconds) => {
      metrics.toolCalls.inc({ server, tool });
      metrics.toolCallDuration.observe({ server, tool }, seconds);
      if (outcome !== "ok") metrics.toolCallErrors.inc({ server, tool, reason: outcome });
      if (outcome === "upstream_rate_limited" || outcome === "upstream_busy") {
        metrics.rateLimited.inc({ scope: "upstream", name: server });
      }
    },
  });
}

function countAuth(metrics: GatewayMetrics, result: AuthResult): void {
  metrics.authAttempts.inc({ result: result.ok ? "success" : "failure" });
  if (!result.ok) metrics.authFailures.inc({ reason: result.reason });
}

/**
 * The caching hints of a list (or of `server/discover`, with no kind) for 2026-07-28 clients:
 * fresh until the soonest catalog refresh, or sooner when an upstream's own hint for that list
 * is; private when scopes can make it depend on who asks or an upstream said that list is.
 */
function cacheHints(
  config: Config,
  supervisors: readonly Supervisor[],
  kind: ListKind | undefined,
): { ttlMs: number; cacheScope: "public" | "private" } {
  const hints = kind === undefined ? [] : supervisors.flatMap((s) => s.lists.hints?.[kind] ?? []);
  const refresh = Math.min(...config.servers.map((s) => s.tools.ttl_seconds), 300) * 1000;
  const ttlMs = Math.min(refresh, ...hints.map((h) => h.ttlMs));
  const scoped = config.mcp.auth.mode === "keys" || config.mcp.auth.mode === "basic";
  return { ttlMs, cacheScope: scoped || hints.some((h) => h.private) ? "private" : "public" };
}

/** The authenticator of a downstream auth mode; undefined when auth is off. */
function createAuthenticator(auth: Config["mcp"]["auth"]): Authenticator | undefined {
  switch (auth.mode) {
    case "none":
      return undefined;
    case "bearer":
      return bearerAuthenticator(auth.token);
    case "keys":
      return keysAuthenticator(
        auth.clients.map((c) => ({
          name: c.name,
          admin: c.admin,
          keySha256: c.keySha256,
          scopes: c,
        })),
      );
    case "basic":
      return basicAuthenticator(
        auth.users.map((u) => ({
          name: u.name,
          admin: u.admin,
          passwordSha256: u.passwordSha256,
          scopes: u,
        })),
      );
  }
}
