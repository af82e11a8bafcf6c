/**
 * The composition root: builds supervisors, the catalog, sessions and the HTTP routes from a
 * config, and owns their lifetimes.
 *
 * @example
 * ```ts ignore
 * const gateway = createGateway(config, { version: "0.2.0" });
 * await gateway.ready();
 * Deno.serve({ hostname: config.host, port: config.port }, gateway.handler);
 * // later
 * await gateway.dispose();
 * ```
 */
import type { Config, ServerConfig } from "./config/mod.ts";
import { createDispatcher } from "./downstream/dispatch.ts";
import { createMcpEndpoint } from "./downstream/endpoint.ts";
import { announceChanges, relayNotification, relayRequest } from "./downstream/relay.ts";
import { SessionStore } from "./downstream/sessions.ts";
import { Subscriptions } from "./downstream/subscriptions.ts";
import { bearerAuthenticator } from "./http/auth.ts";
import { createOriginGuard } from "./http/origin.ts";
import { createRouter, type Handler, json, plain } from "./http/router.ts";
import {
  CONTENT_TYPE,
  createGatewayMetrics,
  type GatewayMetrics,
  methodLabel,
  render,
} from "./metrics/mod.ts";
import { type Logger, silentLogger } from "./log.ts";
import { Catalog } from "./upstream/catalog.ts";
import { type Clock, systemClock } from "./upstream/clock.ts";
import { RpcClient } from "./upstream/rpc_client.ts";
import { AutoTransport } from "./upstream/auto.ts";
import { LegacySseTransport } from "./upstream/legacy_sse.ts";
import { StdioTransport } from "./upstream/stdio.ts";
import { type FetchLike, StreamableHttpTransport } from "./upstream/streamable.ts";
import type { ByteCounter, MessageTransport } from "./upstream/transport.ts";
import { Supervisor, type UpstreamEvents } from "./upstream/supervisor.ts";

/** Injected seams of {@link createGateway}. */
export interface GatewayDeps {
  /** The gateway's version, as in deno.json. */
  version: string;
  log?: Logger;
  clock?: Clock;
  /** The `fetch` used for one upstream; by default the global one, with the server's CA file if set. */
  fetchFor?(server: ServerConfig): FetchLike;
}

/** A health report, as served by `GET /health`. */
export interface HealthReport {
  status: "ok" | "degraded";
  version: string;
  uptime_seconds: number;
  sessions: number;
  servers: Array<Record<string, unknown>>;
}

/** A running gateway. */
export interface Gateway extends AsyncDisposable {
  /** The HTTP entry point for every route. */
  handler: Handler;
  /** Resolves once every `required` upstream is connected; rejects naming the first one that could not be. */
  ready(): Promise<void>;
  /** The current health report. */
  health(): HealthReport;
  /** The current merged catalog. */
  catalog(): Catalog;
  /**
   * Graceful stop: new sessions get 503 at once, calls in flight get up to
   * `mcp.session.shutdown_grace_seconds` to finish, then everything is disposed.
   */
  shutdown(): Promise<void>;
  /** Stops every loop, ends sessions and closes upstream sessions. */
  dispose(): Promise<void>;
}

const KEEPALIVE_MS = 25_000;
/**
 * What the gateway declares to upstreams. One upstream session serves many clients, so it
 * declares what it can relay; a call from a client without the capability is refused per call.
 */
const UPSTREAM_CAPABILITIES = { sampling: {}, elicitation: {} };
const MAX_BATCH = 100;

/** Builds and starts a gateway for one config. */
export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const stop = new AbortController();
  const startedAt = clock.now();
  let accepting = true;
  let catalog = new Catalog();
  const subscriptions = new Subscriptions();
  const prefixed = config.servers.map((s) => config.namespacing === "always" && s.prefix);

  const sessions = new SessionStore({
    clock,
    idleTtlMs: config.mcp.session.idle_ttl_seconds * 1000,
    log,
    onEnd: (session, reason) => {
      metrics.sessionTerminations.inc({ reason });
      metrics.sessionDuration.observe((clock.now() - session.createdAt) / 1000);
      subscriptions.endSession(session.id);
      for (const supervisor of supervisors) supervisor.releaseSession(session.id);
    },
  });

  const relayTargets = { sessions, subscriptions, catalog: () => catalog };

  const metrics = createGatewayMetrics({
    upstreams: () =>
      supervisors.map((s) => {
        const status = s.status();
        return {
          server: s.name,
          connected: status.connected,
          tools: status.toolsCount,
          reconnects: status.reconnects,
          lastSeenSecondsAgo: status.lastSeen === undefined
            ? undefined
            : (clock.now() - status.lastSeen) / 1000,
          inBackoff: status.backoffMs > 0,
          currentBackoffSeconds: status.backoffMs / 1000,
          instances: status.instances,
        };
      }),
    sessionsActive: () => sessions.size,
  }, { version: deps.version });

  const rebuildCatalog = () => {
    const next = new Catalog(
      supervisors.map((s, i) => ({ server: s.name, prefixed: prefixed[i]!, ...s.lists })),
    );
    for (const conflict of next.conflicts) {
      log.error("two upstream items expose the same name; the second is left out", {
        kind: conflict.kind,
        name: conflict.exposed,
        kept: `${conflict.kept.server}/${conflict.kept.name}`,
        dropped: `${conflict.dropped.server}/${conflict.dropped.name}`,
      });
    }
    const previous = catalog;
    catalog = next;
    announceChanges(previous, next, sessions);
  };

  const supervisors = config.servers.map((server) => {
    const serverLog = log.with({ server: server.name });
    const fetchImpl = deps.fetchFor?.(server) ?? defaultFetch(server);
    return new Supervisor({
      config: server,
      clock,
      log: serverLog,
      onChange: rebuildCatalog,
      events: upstreamEvents(metrics, server, clock),
      onNotification: (notification, sessionId) =>
        relayNotification(relayTargets, server.name, notification, sessionId),
      onRequest: (request, sessionId, signal) =>
        relayRequest(relayTargets, request, sessionId, signal),
      ...(perSession(server) ? { perSession: { maxInstances: server.max_instances } } : {}),
      createClient: (handlers, capabilities) =>
        new RpcClient({
          server: server.name,
          transport: createTransport(
            server,
            fetchImpl,
            serverLog,
            deps.version,
            (direction, bytes) =>
              metrics.upstreamBytes.inc({ server: server.name, direction }, bytes),
          ),
          onSessionReset: () =>
            metrics.sessionResets.inc({ server: server.name, reason: "unknown_session" }),
          clientInfo: { name: "mcpstead", version: deps.version },
          capabilities: capabilities ?? UPSTREAM_CAPABILITIES,
          handlers,
          log: serverLog,
          timeoutMs: server.timeout * 1000,
        }),
    });
  });
  const byName = new Map(supervisors.map((s) => [s.name, s]));

  const dispatcher = createDispatcher({
    upstreams: {
      catalog: () => catalog,
      supervisors: () => supervisors,
      supervisor: (name) => byName.get(name),
    },
    subscriptions,
    sessionLogLevels: () =>
      [...sessions.values()].flatMap((s) => (s.logLevel === undefined ? [] : [s.logLevel])),
    serverInfo: { name: "mcpstead", version: deps.version },
    pageSize: config.mcp.page_size,
    onToolCall: (server, tool, outcome, seconds) => {
      metrics.toolCalls.inc({ server, tool });
      metrics.toolCallDuration.observe({ server, tool }, seconds);
      if (outcome !== "ok") metrics.toolCallErrors.inc({ server, tool, reason: outcome });
    },
  });

  const endpoint = createMcpEndpoint({
    sessions,
    dispatcher,
    guard: createOriginGuard({ bindHost: config.host, allowedOrigins: config.mcp.allowed_origins }),
    authenticate: config.mcp.auth.mode === "bearer"
      ? bearerAuthenticator(config.mcp.auth.token)
      : undefined,
    maxBodyBytes: config.mcp.max_body_bytes,
    maxBatchSize: MAX_BATCH,
    keepAliveMs: KEEPALIVE_MS,
    log,
    accepting: () => accepting,
    observer: {
      message(method, ok, seconds) {
        const label = methodLabel(method);
        metrics.requests.inc({ method: label, result: ok ? "success" : "error" });
        metrics.requestDuration.observe({ method: label }, seconds);
      },
      auth(result) {
        metrics.authAttempts.inc({ result: result.ok ? "success" : "failure" });
        if (!result.ok) metrics.authFailures.inc({ reason: result.reason });
      },
      sessionCreated: () => metrics.sessionsTotal.inc(),
    },
  });

  const health = (): HealthReport => {
    const now = clock.now();
    const servers = config.servers.map((server) => {
      const status = byName.get(server.name)!.status();
      return {
        name: server.name,
        ...(server.command === undefined
          ? { url: redactUrl(server.url!) }
          : { command: server.command }),
        protocol: server.protocol,
        transport: status.transport ?? null,
        required: server.required,
        connected: status.connected,
        state: status.phase,
        tools_count: status.toolsCount,
        last_seen_seconds_ago: status.lastSeen === undefined
          ? null
          : (now - status.lastSeen) / 1000,
        reconnects: status.reconnects,
        last_error: status.lastError ?? null,
      };
    });
    return {
      status: servers.every((s) => s.connected) ? "ok" : "degraded",
      version: deps.version,
      uptime_seconds: (now - startedAt) / 1000,
      sessions: sessions.size,
      servers,
    };
  };

  const handler = createRouter({
    "/mcp": { POST: endpoint.post, GET: endpoint.get, DELETE: endpoint.delete },
    "/health": { GET: () => json(200, health()) },
    "/metrics": {
      GET: () =>
        config.metrics.enabled
          ? new Response(render(metrics.registry), { headers: { "content-type": CONTENT_TYPE } })
          : plain(404, "metrics disabled"),
    },
  });

  const loops = [
    ...supervisors.map((s) => s.run(stop.signal)),
    sessions.runGc(config.mcp.session.gc_interval_seconds * 1000, stop.signal),
  ];

  const dispose = async () => {
    if (stop.signal.aborted) return;
    accepting = false;
    sessions.endAll("gateway_shutdown");
    stop.abort();
    await Promise.allSettled(loops);
  };

  return {
    handler,
    health,
    catalog: () => catalog,
    async ready() {
      await Promise.all(
        config.servers.filter((s) => s.required).map((server) =>
          byName.get(server.name)!.untilConnected(Math.max(1, server.reconnect.max_attempts)).catch(
            (error) => {
              throw new Error(
                `Cannot start: required upstream '${server.name}' did not connect: ${error.message}`,
              );
            },
          )
        ),
      );
    },
    async shutdown() {
      accepting = false;
      const deadline = clock.now() + config.mcp.session.shutdown_grace_seconds * 1000;
      const busy = () => [...sessions.values()].some((s) => s.inflight.size > 0);
      if (busy()) {
        log.info("waiting for calls in flight", {
          grace_seconds: config.mcp.session.shutdown_grace_seconds,
        });
      }
      while (busy() && clock.now() < deadline) await clock.sleep(25, stop.signal).catch(() => {});
      if (busy()) log.warn("calls still in flight after the grace period; ending them");
      await dispose();
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Whether a server runs one upstream instance per downstream session. */
function perSession(server: ServerConfig): boolean {
  return server.command === undefined
    ? server.session === "per_client"
    : server.sharing === "per_session";
}

/** The transport of one new upstream session: a child process for `command`, HTTP for `url`. */
function createTransport(
  server: ServerConfig,
  fetchImpl: FetchLike,
  log: Logger,
  version: string,
  countBytes: ByteCounter,
): MessageTransport {
  if (server.command !== undefined) {
    return new StdioTransport({
      server: server.name,
      countBytes,
      command: server.command,
      args: server.args,
      env: server.env,
      inheritEnv: server.inherit_env,
      ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
      log,
    });
  }
  const headers = upstreamHeaders(server);
  const userAgent = `mcpstead/${version}`;
  const streamable = () =>
    new StreamableHttpTransport({
      server: server.name,
      countBytes,
      url: server.url!,
      headers,
      accept: server.quirks.inject_accept_header,
      normalizeSseEvents: server.quirks.normalize_sse_events,
      userAgent,
      fetch: fetchImpl,
      log,
    });
  const legacy = () =>
    new LegacySseTransport({
      server: server.name,
      countBytes,
      url: server.url!,
      headers,
      accept: server.quirks.inject_accept_header,
      normalizeSseEvents: server.quirks.normalize_sse_events,
      userAgent,
      fetch: fetchImpl,
      log,
      timeoutMs: server.timeout * 1000,
    });
  if (server.protocol === "sse") return legacy();
  if (server.protocol === "streamable") return streamable();
  return new AutoTransport(streamable(), legacy, log);
}

/** Supervisor events of one server, recorded as metrics. */
function upstreamEvents(
  metrics: GatewayMetrics,
  server: ServerConfig,
  clock: Clock,
): UpstreamEvents {
  const labels = { server: server.name };
  const result = (ok: boolean, bad = "error") => ({
    server: server.name,
    result: ok ? "success" : bad,
  });
  return {
    initialized(ok, seconds) {
      metrics.initialize.inc(result(ok));
      metrics.initializeDuration.observe(labels, seconds);
    },
    refreshed(ok, seconds) {
      metrics.refreshes.inc(result(ok));
      metrics.refreshDuration.observe(labels, seconds);
      if (ok) metrics.lastRefresh.set(labels, clock.now() / 1000);
    },
    checked: (ok) => metrics.healthChecks.inc(result(ok, "failure")),
    reconnected: (ok) => metrics.reconnectAttempts.inc(result(ok)),
    backedOff: (seconds) => metrics.backoffSeconds.inc(labels, seconds),
    lost() {
      if (server.command !== undefined) metrics.restarts.inc(labels);
    },
  };
}

/** Headers sent to an upstream: its configured ones, plus its bearer token. */
function upstreamHeaders(server: ServerConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(server.headers)) headers[name.toLowerCase()] = value;
  if (server.auth.type === "bearer") headers.authorization = `Bearer ${server.auth.token}`;
  return headers;
}

function defaultFetch(server: ServerConfig): FetchLike {
  if (server.tls_ca_file === undefined) return (input, init) => fetch(input, init);
  const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(server.tls_ca_file)] });
  return (input, init) => fetch(input, { ...init, client });
}

/** A URL safe to show without auth: no password, no query values. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "redacted";
    for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, "redacted");
    return parsed.toString();
  } catch {
    return "(invalid url)";
  }
}
