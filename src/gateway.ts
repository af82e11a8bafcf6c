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
import {
  type Config,
  type ConfigDiff,
  ConfigError,
  configSecrets,
  createRedactor,
  diffConfigs,
  redactUrl,
  type ServerConfig,
} from "./config/mod.ts";
import { createDispatcher } from "./downstream/dispatch.ts";
import { createMcpEndpoint } from "./downstream/endpoint.ts";
import { openApiDocument } from "./downstream/openapi.ts";
import { createRestApi, refuseJson } from "./downstream/rest.ts";
import { announceChanges, relayNotification, relayRequest } from "./downstream/relay.ts";
import { SessionStore } from "./downstream/sessions.ts";
import { ClientLimits } from "./downstream/client_limits.ts";
import { unchangedIdentities } from "./downstream/auth_changes.ts";
import { Subscriptions } from "./downstream/subscriptions.ts";
import {
  type Authenticator,
  type AuthResult,
  basicAuthenticator,
  bearerAuthenticator,
  type Identity,
  keysAuthenticator,
  unauthorized,
} from "./http/auth.ts";
import { refuseGuarded } from "./http/admission.ts";
import { withCors } from "./http/cors.ts";
import { DASHBOARD_HTML } from "./http/dashboard.ts";
import { createOriginGuard, remoteExposure } from "./http/origin.ts";
import { createReloadRoute } from "./http/reload_route.ts";
import { createRouter, type Handler, json, plain } from "./http/router.ts";
import { CONTENT_TYPE, createGatewayMetrics, methodLabel, render } from "./metrics/mod.ts";
import { describeError, type Logger, redactingLogger, silentLogger } from "./log.ts";
import { Catalog } from "./upstream/catalog.ts";
import type { JsonObject } from "./mcp/jsonrpc.ts";
import { type Clock, systemClock } from "./upstream/clock.ts";
import type { FetchLike } from "./upstream/transport.ts";
import type { UpstreamLists } from "./upstream/lists.ts";
import type { Supervisor } from "./upstream/supervisor.ts";
import { createServerSupervisor } from "./servers.ts";

/** Injected seams of {@link createGateway}. */
export interface GatewayDeps {
  /** The gateway's version, as in deno.json. */
  version: string;
  /** The commit it runs from (`git_sha` of `mcpstead_build_info`), when known. */
  gitSha?: string;
  log?: Logger;
  clock?: Clock;
  /** The `fetch` used for one upstream; by default the global one, with the server's CA file if set. */
  fetchFor?(server: ServerConfig): FetchLike;
  /** Reads the config file again, for reloads (SIGHUP, `POST /-/reload`, `--watch`). */
  loadConfig?(): Promise<Config>;
  /** How often an idle SSE stream gets a keep-alive comment; default 25 s (tests shorten it). */
  keepAliveMs?: number;
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
  /** The OpenAPI description of the REST API, as `identity` (everything, when absent) may use it. */
  openApi(identity?: Identity): JsonObject;
  /** The current health report. */
  health(): HealthReport;
  /** The current merged catalog. */
  catalog(): Catalog;
  /** Loads the config again and applies what changed; rejects (keeping everything) on a bad file. */
  reload(): Promise<ReloadSummary>;
  /**
   * Graceful stop: new sessions get 503 at once, calls in flight get up to
   * `mcp.session.shutdown_grace_seconds` to finish, then everything is disposed.
   */
  shutdown(): Promise<void>;
  /** Stops every loop, ends sessions and closes upstream sessions. */
  dispose(): Promise<void>;
}

const KEEPALIVE_MS = 25_000;
const CIRCUIT_VALUES = { closed: 0, open: 1, half_open: 2 } as const;

/** What a reload did, as answered by `POST /-/reload` (counts, like mcpstead 0.1, and names). */
export interface ReloadSummary {
  added: number;
  removed: number;
  restarted: number;
  updated: number;
  unchanged: number;
  servers: Omit<ConfigDiff, "restartRequired">;
  /** Changed keys that need a gateway restart to take effect. */
  restart_required: string[];
}

interface Running {
  config: ServerConfig;
  supervisor: Supervisor;
  stop: AbortController;
  done: Promise<void>;
}

/** Builds and starts a gateway for one config. */
export function createGateway(initial: Config, deps: GatewayDeps): Gateway {
  let config = initial;
  /** Hides the current config's secrets in every text the gateway logs, keeps or returns. */
  let redact = createRedactor(configSecrets(config));
  const log = redactingLogger(deps.log ?? silentLogger, (text) => redact(text));
  const clock = deps.clock ?? systemClock;
  const stop = new AbortController();
  const startedAt = clock.now();
  let accepting = true;
  let catalog = new Catalog();
  let running: Running[] = [];
  let reloading: Promise<unknown> = Promise.resolve();
  const subscriptions = new Subscriptions();
  /** Rate limits of clients: by identity, anonymous session (/mcp) or address (REST). */
  const clientLimits = new ClientLimits(config.mcp.rate_limit, clock);
  const supervisors = () => running.map((r) => r.supervisor);
  const byName = (name: string) => running.find((r) => r.supervisor.name === name)?.supervisor;

  const sessions = new SessionStore({
    clock,
    idleTtlMs: config.mcp.session.idle_ttl_seconds * 1000,
    unusedTtlMs: config.mcp.session.unused_ttl_seconds * 1000,
    log,
    onEnd: (session, reason) => {
      metrics.sessionTerminations.inc({ reason });
      metrics.sessionDuration.observe((clock.now() - session.createdAt) / 1000);
      subscriptions.endSession(session.id);
      clientLimits.forget(session.id);
      for (const supervisor of supervisors()) supervisor.releaseSession(session.id);
    },
  });

  const relayTargets = { sessions, subscriptions, catalog: () => catalog };

  const metrics = createGatewayMetrics({
    upstreams: () =>
      supervisors().map((s) => {
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
          circuit: CIRCUIT_VALUES[s.circuit],
        };
      }),
    sessionsActive: () => sessions.size,
  }, { version: deps.version, ...(deps.gitSha === undefined ? {} : { gitSha: deps.gitSha }) });

  const rebuildCatalog = () => {
    const next = new Catalog(
      running.map((r) => ({
        server: r.supervisor.name,
        prefixed: config.namespacing === "always" && r.config.prefix,
        rules: r.config.tools,
        ...r.supervisor.lists,
      })),
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

  /** Starts a server's supervisor; a restarted server starts with its old lists, stale. */
  const start = (server: ServerConfig, lists?: UpstreamLists): Running => {
    const supervisor = createServerSupervisor(server, {
      clock,
      log,
      version: deps.version,
      metrics,
      redact: (text) => redact(text),
      secretEnv: () => config.secret_env,
      ...(deps.fetchFor ? { fetchFor: deps.fetchFor } : {}),
      onChange: rebuildCatalog,
      onNotification: (name, notification, sessionId) =>
        relayNotification(relayTargets, name, notification, sessionId),
      onRequest: (request, sessionId, signal) =>
        relayRequest(relayTargets, request, sessionId, signal),
    }, lists);
    const own = new AbortController();
    const signal = AbortSignal.any([stop.signal, own.signal]);
    return { config: server, supervisor, stop: own, done: supervisor.run(signal) };
  };

  const halt = async (entry: Running) => {
    entry.stop.abort();
    await entry.done;
  };

  running = config.servers.map((server) => start(server));

  const countAuth = (result: AuthResult) => {
    metrics.authAttempts.inc({ result: result.ok ? "success" : "failure" });
    if (!result.ok) metrics.authFailures.inc({ reason: result.reason });
  };

  /** The request-facing parts, rebuilt from the config at start and at every reload. */
  const buildFront = (current: Config) => {
    const dispatcher = createDispatcher({
      upstreams: { catalog: () => catalog, supervisors, supervisor: byName },
      subscriptions,
      sessionLogLevels: () =>
        [...sessions.values()].flatMap((s) => (s.logLevel === undefined ? [] : [s.logLevel])),
      serverInfo: { name: "mcpstead", version: deps.version },
      pageSize: current.mcp.page_size,
      toolsMode: current.mcp.tools_mode,
      pinned: current.mcp.pinned,
      onToolCall: (server, tool, outcome, seconds) => {
        metrics.toolCalls.inc({ server, tool });
        metrics.toolCallDuration.observe({ server, tool }, seconds);
        if (outcome !== "ok") metrics.toolCallErrors.inc({ server, tool, reason: outcome });
        if (outcome === "upstream_rate_limited" || outcome === "upstream_busy") {
          metrics.rateLimited.inc({ scope: "upstream", name: server });
        }
      },
    });
    const authenticate = createAuthenticator(current.mcp.auth);
    const limitClient = (key: string) => clientLimits.take(key);
    const guard = createOriginGuard({
      bindHost: current.host,
      allowedHosts: current.mcp.allowed_hosts,
      allowedOrigins: current.mcp.allowed_origins,
    });
    const admission = {
      guard,
      authenticate,
      maxHeaderBytes: current.mcp.limits.max_header_bytes,
      onAuth: countAuth,
    };
    const rest = createRestApi({
      dispatcher,
      catalog: () => catalog,
      admission,
      bodyLimits: {
        maxBodyBytes: current.mcp.max_body_bytes,
        bodyTimeoutMs: current.mcp.limits.body_timeout_seconds * 1000,
        maxJsonDepth: current.mcp.limits.max_json_depth,
        maxJsonValues: current.mcp.limits.max_json_values,
      },
      limitClient,
      onRateLimited: (client) => metrics.rateLimited.inc({ scope: "client", name: client }),
      release: (sessionId) => {
        for (const supervisor of supervisors()) supervisor.releaseSession(sessionId);
      },
      accepting: () => accepting,
    });
    const endpoint = createMcpEndpoint({
      sessions,
      dispatcher,
      guard,
      authenticate,
      maxBodyBytes: current.mcp.max_body_bytes,
      maxSessionsPerClient: current.mcp.limits.max_sessions_per_client,
      maxSessions: current.mcp.limits.max_sessions,
      maxInitializeBytes: current.mcp.limits.max_initialize_bytes,
      limits: {
        maxJsonDepth: current.mcp.limits.max_json_depth,
        maxJsonValues: current.mcp.limits.max_json_values,
        maxHeaderBytes: current.mcp.limits.max_header_bytes,
        bodyTimeoutMs: current.mcp.limits.body_timeout_seconds * 1000,
        streamBufferBytes: current.mcp.limits.stream_buffer_bytes,
      },
      limitClient,
      maxBatchSize: current.mcp.limits.max_batch,
      keepAliveMs: deps.keepAliveMs ?? KEEPALIVE_MS,
      log,
      accepting: () => accepting,
      observer: {
        message(method, ok, seconds, client) {
          const label = methodLabel(method);
          metrics.requests.inc({ method: label, result: ok ? "success" : "error" });
          metrics.requestDuration.observe({ method: label }, seconds);
          if (client !== undefined) metrics.clientRequests.inc({ client });
        },
        rateLimited: (client) => metrics.rateLimited.inc({ scope: "client", name: client }),
        auth: countAuth,
        sessionCreated: () => metrics.sessionsTotal.inc(),
      },
    });
    return { endpoint, authenticate, rest, dispatcher, guard, admission };
  };
  let front = buildFront(config);

  const apply = async (next: Config): Promise<ReloadSummary> => {
    const diff = diffConfigs(config, next);
    // Secrets of both configs, until the servers of the old one have stopped.
    redact = createRedactor([...configSecrets(config), ...configSecrets(next)]);
    const byConfig = new Map(running.map((r) => [r.supervisor.name, r]));
    const removed = [...diff.removed, ...diff.restarted].map((name) => byConfig.get(name)!);
    await Promise.all(removed.map(halt));
    const replaced = new Set([...diff.removed, ...diff.restarted]);
    running = next.servers.map((server) => {
      const existing = replaced.has(server.name) ? undefined : byConfig.get(server.name);
      if (!existing) return start(server, byConfig.get(server.name)?.supervisor.lists);
      if (diff.updated.includes(server.name)) existing.supervisor.update(server);
      return { ...existing, config: server };
    });
    const restartRequired = diff.restartRequired;
    const unchanged = unchangedIdentities(config.mcp.auth, next.mcp.auth);
    config = {
      ...next,
      host: config.host,
      port: config.port,
      logging: config.logging,
      mcp: { ...next.mcp, session: config.mcp.session },
    };
    front = buildFront(config);
    redact = createRedactor(configSecrets(config));
    for (const session of [...sessions.values()]) {
      if (!unchanged(session.identity)) sessions.end(session.id, "auth_changed");
    }
    clientLimits.reset(config.mcp.rate_limit);
    rebuildCatalog();
    metrics.reloads.inc({ result: "success" });
    metrics.lastReload.set(clock.now() / 1000);
    const { restartRequired: _, ...servers } = diff;
    const summary: ReloadSummary = {
      added: diff.added.length,
      removed: diff.removed.length,
      restarted: diff.restarted.length,
      updated: diff.updated.length,
      unchanged: diff.unchanged.length,
      servers,
      restart_required: restartRequired,
    };
    log.info("config reloaded", { ...servers, restart_required: restartRequired });
    if (restartRequired.length > 0) {
      log.warn("changed keys take effect only after a restart", { keys: restartRequired });
    }
    return summary;
  };

  const reload = (): Promise<ReloadSummary> => {
    const run = reloading.then(async () => {
      if (!deps.loadConfig) {
        throw new Error("Cannot reload: the gateway was not started from a config file");
      }
      let next: Config;
      try {
        next = await deps.loadConfig();
      } catch (error) {
        metrics.reloads.inc({ result: "error" });
        log.error("config reload failed; keeping the running config", { error });
        throw error;
      }
      const exposure = remoteExposure(config.host, next.mcp);
      if (exposure?.level === "error") {
        metrics.reloads.inc({ result: "error" });
        log.error("config reload refused; keeping the running config", {
          reason: exposure.message,
        });
        throw new Error(`Cannot reload: ${exposure.message}`);
      }
      return apply(next);
    });
    reloading = run.catch(() => {});
    return run;
  };

  const health = (): HealthReport => {
    const now = clock.now();
    const servers = running.map(({ config: server, supervisor }) => {
      const status = supervisor.status();
      return {
        name: server.name,
        ...target(server),
        transport: status.transport ?? null,
        required: server.required,
        connected: status.connected,
        state: status.phase,
        tools_count: status.toolsCount,
        tools_stale: status.stale,
        last_seen_seconds_ago: status.lastSeen === undefined
          ? null
          : (now - status.lastSeen) / 1000,
        reconnects: status.reconnects,
        last_error: status.lastError ?? null,
        circuit: supervisor.circuit,
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

  const openApi = (identity?: Identity) =>
    openApiDocument({
      tools: front.dispatcher.tools(identity),
      serverOf: (name) => catalog.tool(name)?.server,
      version: deps.version,
      scheme: front.authenticate?.scheme,
    });

  /** Runs `handler` only for requests that pass the Host/Origin guard. */
  const guarded = (handler: Handler): Handler => (req, info) => {
    const refusal = front.guard(req);
    return refusal ? refuseGuarded(refusal, refuseJson) : handler(req, info);
  };
  /** CORS for allowed origins; its preflight answers are guarded like the rest. */
  const cors = (handlers: Record<string, Handler>) => {
    const routes = withCors(() => config.mcp.allowed_origins, handlers);
    return { ...routes, OPTIONS: guarded(routes.OPTIONS!) };
  };

  const handler = createRouter({
    "/mcp": cors({
      POST: (req, info) => front.endpoint.post(req, info),
      GET: (req, info) => front.endpoint.get(req, info),
      DELETE: (req, info) => front.endpoint.delete(req, info),
    }),
    "/api/*": cors({
      POST: (req, info) => front.rest.call(req, info),
    }),
    "/openapi.json": cors({
      GET: (req) => {
        const admitted = front.rest.admit(req);
        if (admitted instanceof Response) return admitted;
        return json(200, openApi(admitted.identity));
      },
    }),
    "/health": { GET: guarded(() => json(200, health())) },
    "/metrics": {
      GET: guarded(() =>
        config.metrics.enabled
          ? new Response(render(metrics.registry), { headers: { "content-type": CONTENT_TYPE } })
          : plain(404, "metrics disabled")
      ),
    },
    "/ui": {
      GET: guarded(() =>
        new Response(DASHBOARD_HTML, {
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
        })
      ),
    },
    "/ui/tools": {
      GET: guarded((req) => {
        const auth = front.authenticate?.(req);
        if (auth && !auth.ok) return unauthorized(front.authenticate!.scheme);
        return json(200, {
          tools: front.dispatcher.tools(auth?.identity).map((t) => ({
            name: t.name,
            description: t.description ?? null,
          })),
        });
      }),
    },
    "/-/reload": {
      POST: createReloadRoute({
        admission: () => front.admission,
        isAdmin: (identity) => config.mcp.auth.mode === "bearer" || identity.admin === true,
        reload: async () => {
          try {
            return json(200, await reload());
          } catch (error) {
            return plain(400, error instanceof ConfigError ? error.message : describeError(error));
          }
        },
      }),
    },
  });

  const gc = sessions.runGc(config.mcp.session.gc_interval_seconds * 1000, stop.signal);

  const dispose = async () => {
    if (stop.signal.aborted) return;
    accepting = false;
    sessions.endAll("gateway_shutdown");
    stop.abort();
    await Promise.allSettled([gc, ...running.map((r) => r.done)]);
  };

  return {
    handler,
    health,
    catalog: () => catalog,
    openApi,
    reload,
    async ready() {
      await Promise.all(
        running.filter((r) => r.config.required).map(({ config: server, supervisor }) =>
          supervisor.untilConnected(Math.max(1, server.reconnect.max_attempts)).catch((error) => {
            throw new Error(
              `Cannot start: required upstream '${server.name}' did not connect: ${error.message}`,
            );
          })
        ),
      );
    },
    async shutdown() {
      accepting = false;
      const grace = config.mcp.session.shutdown_grace_seconds;
      const deadline = clock.now() + grace * 1000;
      const busy = () => [...sessions.values()].some((s) => s.inflight.size > 0);
      if (busy()) log.info("waiting for calls in flight", { grace_seconds: grace });
      while (busy() && clock.now() < deadline) await clock.sleep(25, stop.signal).catch(() => {});
      if (busy()) log.warn("calls still in flight after the grace period; ending them");
      await dispose();
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** What a server entry of `/health` names as its upstream. */
function target(server: ServerConfig): Record<string, string> {
  if (server.command !== undefined) return { command: server.command, protocol: server.protocol };
  if (server.openapi === undefined) {
    return { url: redactUrl(server.url!), protocol: server.protocol };
  }
  const document = redactUrl(server.openapi);
  return server.base_url === undefined
    ? { openapi: document }
    : { openapi: document, base_url: redactUrl(server.base_url) };
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
