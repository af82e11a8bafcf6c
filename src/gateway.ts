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
import type { Handler } from "./http/router.ts";
import { createHttpRoutes } from "./http_routes.ts";
import { type Logger, redactingLogger, silentLogger } from "./log.ts";
import type { JsonObject } from "./mcp/jsonrpc.ts";
import { CONTENT_TYPE, createGatewayMetrics, render } from "./metrics/mod.ts";
import { type ClusterState, createClusterState } from "./state/mod.ts";
import type { Catalog } from "./upstream/catalog.ts";
import { type Clock, systemClock } from "./upstream/clock.ts";
import type { FetchLike } from "./upstream/transport.ts";
import { Reloader, type ReloadSummary } from "./reload.ts";
import { UpstreamSet } from "./upstream_set.ts";

export type { HealthReport } from "./health.ts";
export type { ReloadSummary } from "./reload.ts";

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
  const subscriptions = new Subscriptions();
  /** Rate limits of clients: by identity, anonymous session (/mcp) or address (REST). */
  const clientLimits = new ClientLimits(config.mcp.rate_limit, clock);

  const metrics = createGatewayMetrics({
    upstreams: () => upstreams.snapshots(clock),
    sessionsActive: () => sessions.size,
  }, { version: deps.version, ...(deps.gitSha === undefined ? {} : { gitSha: deps.gitSha }) });

  const clustered: ClusterState | undefined = config.cluster && createClusterState({
    config,
    redact: (text) => redact(text),
    sessions: () => sessions,
    upstreams: {
      catalog: () => upstreams.catalog(),
      supervisors: () => upstreams.supervisors(),
      supervisor: (name) => upstreams.supervisor(name),
    },
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
      for (const supervisor of upstreams.supervisors()) supervisor.releaseSession(session.id);
    },
  });

  const listeners = new Listeners({ max: 10_000, maxPerPrincipal: 32 });
  const relayTargets: RelayTargets = {
    sessions,
    listeners,
    subscriptions,
    catalog: () => upstreams.catalog(),
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

  const upstreams = new UpstreamSet(config.servers, {
    supervisorDeps: {
      clock,
      log,
      version: deps.version,
      metrics,
      redact: (text) => redact(text),
      secretEnv: () => config.secret_env,
      ...(deps.fetchFor ? { fetchFor: deps.fetchFor } : {}),
      onNotification: (name, notification, sessionId) =>
        relayNotification(relayTargets, name, notification, sessionId),
      onRequest: (request, sessionId, signal) =>
        relayRequest(relayTargets, request, sessionId, signal),
    },
    prefixed: () => config.namespacing === "always",
    onCatalog: (previous, next) => {
      for (const kind of announceChanges(previous, next, sessions)) listeners.listChanged(kind);
    },
    log,
    signal: stop.signal,
  });

  const frontParts = {
    upstreams,
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

  /** Makes `next` the running config: servers, routes, secrets, identities, limits. */
  const apply = async (next: Config, diff: ConfigDiff) => {
    // Secrets of both configs, until the servers of the old one have stopped.
    redact = createRedactor([...configSecrets(config), ...configSecrets(next)]);
    await upstreams.apply(diff, next.servers);
    const unchanged = unchangedIdentities(config.mcp.auth, next.mcp.auth);
    config = next;
    front = buildFront(config, frontParts);
    redact = createRedactor(configSecrets(config));
    for (const session of [...sessions.values()]) {
      if (!unchanged(session.identity)) sessions.end(session.id, "auth_changed");
    }
    clientLimits.reset(config.mcp.rate_limit);
    clustered?.configChanged(config);
    upstreams.rebuildCatalog();
  };
  const reloader = new Reloader({
    ...(deps.loadConfig ? { load: deps.loadConfig } : {}),
    current: () => config,
    apply,
    metrics,
    clock,
    log,
  });
  const reload = () => reloader.reload();

  const health = (): HealthReport =>
    healthReport(upstreams.running, {
      version: deps.version,
      uptimeSeconds: (clock.now() - startedAt) / 1000,
      sessions: sessions.size,
      now: clock.now(),
      ...(clustered ? { cluster: clustered.cluster.health() } : {}),
    });

  const openApi = (identity?: Identity) =>
    openApiDocument({
      tools: front.dispatcher.tools(identity),
      serverOf: (name) => upstreams.catalog().tool(name)?.server,
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
    for (const supervisor of upstreams.supervisors()) {
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
    await Promise.allSettled([gc, flowGc, joined, upstreams.done()]);
  };

  return {
    handler,
    health,
    catalog: () => upstreams.catalog(),
    openApi,
    reload,
    async ready() {
      // A replica starts even when the store is down (it serves what needs no shared state).
      if (clustered) await clustered.cluster.connectedWithin(CLUSTER_CONNECT_WAIT_MS, stop.signal);
      await upstreams.ready();
    },
    async shutdown() {
      accepting = false;
      await drain(config.mcp.session.shutdown_grace_seconds);
      await dispose();
    },
    dispose,
    listening: (address) => clustered?.listening(address),
    [Symbol.asyncDispose]: dispose,
  };

  /** Gives calls in flight up to `graceSeconds` to finish. */
  async function drain(graceSeconds: number): Promise<void> {
    const deadline = clock.now() + graceSeconds * 1000;
    const busy = () => [...sessions.values()].some((s) => s.inflight.size > 0);
    if (busy()) log.info("waiting for calls in flight", { grace_seconds: graceSeconds });
    while (busy() && clock.now() < deadline) await clock.sleep(25, stop.signal).catch(() => {});
    if (busy()) log.warn("calls still in flight after the grace period; ending them");
  }
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
