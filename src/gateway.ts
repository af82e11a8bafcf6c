/**
 * The composition root: builds supervisors, the catalog, sessions and the HTTP routes from a
 * config, and owns their lifetimes.
 *
 * @example
 * ```ts ignore
 * const gateway = createGateway(config, { version: "0.2.0" });
 * await gateway.ready();
 * const listener = Deno.listen({ hostname: config.host, port: config.port });
 * const server = serveHttp(listener, gateway.handler, { limits: serverLimits(config.mcp.limits) });
 * // later
 * await gateway.dispose();
 * await server.shutdown();
 * ```
 */
import {
  type Config,
  type ConfigDiff,
  configSecrets,
  createRedactor,
  diffConfigs,
  type ServerConfig,
} from "./config/mod.ts";
import { InputFlows } from "./core/input_flows.ts";
import { RequestStateCodec } from "./core/request_state.ts";
import { Subscriptions } from "./core/subscriptions.ts";
import { unchangedIdentities } from "./downstream/auth_changes.ts";
import { ClientLimits } from "./downstream/client_limits.ts";
import { Listeners } from "./downstream/listen.ts";
import { openApiDocument } from "./downstream/openapi.ts";
import {
  announceChanges,
  relayNotification,
  relayRequest,
  type RelayTargets,
} from "./downstream/relay.ts";
import { SessionStore } from "./downstream/sessions.ts";
import { buildFront, KEEPALIVE_MS } from "./front.ts";
import { type HealthReport, healthReport } from "./health.ts";
import type { Identity } from "./http/auth.ts";
import { remoteExposure } from "./http/origin.ts";
import type { Handler } from "./http/router.ts";
import { createHttpRoutes } from "./http_routes.ts";
import { type Logger, redactingLogger, silentLogger } from "./log.ts";
import type { JsonObject } from "./mcp/jsonrpc.ts";
import { CONTENT_TYPE, createGatewayMetrics, render } from "./metrics/mod.ts";
import { createServerSupervisor } from "./servers.ts";
import { type ClusterState, createClusterState } from "./state/mod.ts";
import { Catalog } from "./upstream/catalog.ts";
import { type Clock, systemClock } from "./upstream/clock.ts";
import type { UpstreamLists } from "./upstream/lists.ts";
import type { Supervisor } from "./upstream/supervisor.ts";
import type { FetchLike } from "./upstream/transport.ts";

export type { HealthReport } from "./health.ts";

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
  /** Tells the gateway where it listens (a cluster replica advertises it to the others). */
  listening(address: { hostname: string; port: number }): void;
}

/** How long a 2026-07-28 client has to retry a call that waits for its input. */
const FLOW_TTL_MS = 600_000;
const FLOW_SWEEP_MS = 5_000;
/** How long startup waits for the cluster store before going on degraded. */
const CLUSTER_CONNECT_WAIT_MS = 3_000;
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

  const metrics = createGatewayMetrics({
    upstreams: () => supervisors().map((s) => upstreamSnapshot(s, clock)),
    sessionsActive: () => sessions.size,
  }, { version: deps.version, ...(deps.gitSha === undefined ? {} : { gitSha: deps.gitSha }) });

  const clustered: ClusterState | undefined = config.cluster && createClusterState({
    config,
    redact: (text) => redact(text),
    sessions: () => sessions,
    upstreams: { catalog: () => catalog, supervisors, supervisor: byName },
    nodeOf: (state) => codec.nodeOf(state),
    version: deps.version,
    log,
    clock,
    registry: metrics.registry,
  });

  const sessions: SessionStore = new SessionStore({
    clock,
    idleTtlMs: config.mcp.session.idle_ttl_seconds * 1000,
    unusedTtlMs: config.mcp.session.unused_ttl_seconds * 1000,
    log,
    ...(clustered ? { sharing: clustered.sharing } : {}),
    onEnd: (session, reason) => {
      metrics.sessionTerminations.inc({ reason });
      metrics.sessionDuration.observe((clock.now() - session.createdAt) / 1000);
      subscriptions.endSession(session.id);
      clientLimits.forget(session.id);
      for (const supervisor of supervisors()) supervisor.releaseSession(session.id);
    },
  });

  const listeners = new Listeners({ max: 10_000, maxPerPrincipal: 32 });
  const relayTargets: RelayTargets = {
    sessions,
    listeners,
    subscriptions,
    catalog: () => catalog,
  };
  const codec = new RequestStateCodec(RequestStateCodec.randomKey());
  const flows = new InputFlows({
    codec,
    clock,
    node: clustered?.cluster.node ?? crypto.randomUUID(),
    ttlMs: FLOW_TTL_MS,
    maxFlows: 10_000,
    maxFlowsPerPrincipal: 100,
  });

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
    for (const kind of announceChanges(previous, next, sessions)) listeners.listChanged(kind);
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

  const frontParts = {
    upstreams: { catalog: () => catalog, supervisors, supervisor: byName },
    subscriptions,
    sessions,
    flows,
    listeners,
    clientLimits,
    metrics,
    log,
    version: deps.version,
    keepAliveMs: deps.keepAliveMs ?? KEEPALIVE_MS,
    accepting: () => accepting,
    ...(clustered ? { cluster: clustered } : {}),
  };
  let front = buildFront(config, frontParts);

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
      ...(config.cluster ? { cluster: config.cluster } : {}),
      mcp: { ...next.mcp, session: config.mcp.session },
    };
    front = buildFront(config, frontParts);
    redact = createRedactor(configSecrets(config));
    for (const session of [...sessions.values()]) {
      if (!unchanged(session.identity)) sessions.end(session.id, "auth_changed");
    }
    clientLimits.reset(config.mcp.rate_limit);
    clustered?.configChanged(config);
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

  const health = (): HealthReport =>
    healthReport(running, {
      version: deps.version,
      uptimeSeconds: (clock.now() - startedAt) / 1000,
      sessions: sessions.size,
      now: clock.now(),
      ...(clustered ? { cluster: clustered.cluster.health() } : {}),
    });

  const openApi = (identity?: Identity) =>
    openApiDocument({
      tools: front.dispatcher.tools(identity),
      serverOf: (name) => catalog.tool(name)?.server,
      version: deps.version,
      scheme: front.authenticate?.scheme,
    });

  const handler = createHttpRoutes({
    front: () => front,
    allowedOrigins: () => config.mcp.allowed_origins,
    bearerIsAdmin: () => config.mcp.auth.mode === "bearer",
    health,
    metrics: () =>
      config.metrics.enabled
        ? { text: render(metrics.registry), contentType: CONTENT_TYPE }
        : undefined,
    openApi,
    reload,
  });

  const gc = sessions.runGc(config.mcp.session.gc_interval_seconds * 1000, stop.signal);
  clustered?.share({ relay: relayTargets, clientLimits, codec });
  const joined = clustered?.start(stop.signal) ?? Promise.resolve();
  const flowGc = sweepRequestState(clock, stop.signal, () => {
    flows.sweep();
    // A 2026-07-28 caller has no session: its own upstream instances idle out instead.
    const idleMs = config.mcp.session.idle_ttl_seconds * 1000;
    for (const supervisor of supervisors()) {
      supervisor.releaseIdle(idleMs, (key) => !sessions.has(key)).catch(() => {});
    }
  });

  const dispose = async () => {
    if (stop.signal.aborted) return;
    accepting = false;
    sessions.endAll("gateway_shutdown");
    listeners.closeAll();
    flows.endAll();
    stop.abort();
    await Promise.allSettled([gc, flowGc, joined, ...running.map((r) => r.done)]);
  };

  return {
    handler,
    health,
    catalog: () => catalog,
    openApi,
    reload,
    async ready() {
      // A replica starts even when the store is down (it serves what needs no shared state).
      if (clustered) await clustered.cluster.connectedWithin(CLUSTER_CONNECT_WAIT_MS, stop.signal);
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
    listening: (address) => clustered?.listening(address),
    [Symbol.asyncDispose]: dispose,
  };
}

/** What the metrics read of one upstream at scrape time. */
function upstreamSnapshot(supervisor: Supervisor, clock: Clock) {
  const status = supervisor.status();
  return {
    server: supervisor.name,
    connected: status.connected,
    tools: status.toolsCount,
    reconnects: status.reconnects,
    lastSeenSecondsAgo: status.lastSeen === undefined
      ? undefined
      : (clock.now() - status.lastSeen) / 1000,
    inBackoff: status.backoffMs > 0,
    currentBackoffSeconds: status.backoffMs / 1000,
    instances: status.instances,
    circuit: CIRCUIT_VALUES[supervisor.circuit],
  };
}

/**
 * What outlives a request without a session, swept every few seconds until `signal` aborts:
 * input flows whose client did not come back, and idle upstream instances of sessionless callers.
 */
async function sweepRequestState(
  clock: Clock,
  signal: AbortSignal,
  sweep: () => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(FLOW_SWEEP_MS, signal);
    } catch {
      return;
    }
    sweep();
  }
}
