/**
 * Builds the supervisor of one configured server: its transport (stdio, Streamable HTTP, legacy
 * SSE, auto or OpenAPI), its headers and TLS settings, and its events recorded as metrics.
 */
import type { ServerConfig } from "./config/mod.ts";
import type { JsonObject, JsonRpcNotification, JsonRpcRequest } from "./mcp/jsonrpc.ts";
import type { GatewayMetrics } from "./metrics/mod.ts";
import type { Logger } from "./log.ts";
import { AutoTransport } from "./upstream/auto.ts";
import type { Clock } from "./upstream/clock.ts";
import { LegacySseTransport } from "./upstream/legacy_sse.ts";
import { OpenApiTransport } from "./upstream/openapi.ts";
import { RpcClient } from "./upstream/rpc_client.ts";
import { StdioTransport } from "./upstream/stdio.ts";
import { StreamableHttpTransport } from "./upstream/streamable.ts";
import { chooseHttpClient } from "./upstream/http_choice.ts";
import type { HttpClientChoice } from "./upstream/http_exchange.ts";
import type { UpstreamLists } from "./upstream/lists.ts";
import { Supervisor, type UpstreamEvents } from "./upstream/supervisor.ts";
import type {
  ByteCounter,
  FetchLike,
  HttpTransportOptions,
  MessageTransport,
} from "./upstream/transport.ts";

/**
 * What the gateway declares to upstreams. One upstream session serves many clients, so it
 * declares what it can relay; a call from a client without the capability is refused per call.
 */
const UPSTREAM_CAPABILITIES = { sampling: {}, elicitation: {} };

/** How long the era an upstream spoke is trusted before it is probed again. */
const ERA_MEMORY_MS = 600_000;

/** What a server's supervisor is wired to. */
export interface ServerContext {
  clock: Clock;
  log: Logger;
  version: string;
  metrics: GatewayMetrics;
  /** Hides the config's secrets in error text (see `createRedactor`). */
  redact(text: string): string;
  /** The variables stdio children never inherit (the config's `secret_env`). */
  secretEnv(): readonly string[];
  fetchFor?(server: ServerConfig): FetchLike;
  onChange(): void;
  onNotification(
    server: string,
    notification: JsonRpcNotification,
    sessionId: string | undefined,
  ): void;
  onRequest(
    request: JsonRpcRequest,
    sessionId: string | undefined,
    signal: AbortSignal,
  ): Promise<JsonObject>;
}

/**
 * Creates the (not yet running) supervisor of one server; `lists` are what an earlier instance
 * of it listed, kept (stale) until it connects.
 */
export function createServerSupervisor(
  server: ServerConfig,
  context: ServerContext,
  lists?: UpstreamLists,
): Supervisor {
  const { clock, metrics, version } = context;
  const log = context.log.with({ server: server.name });
  const caCerts = server.tls_ca_file === undefined
    ? undefined
    : [Deno.readTextFileSync(server.tls_ca_file)];
  const injected = context.fetchFor?.(server);
  const fetchImpl = injected ?? defaultFetch(caCerts);
  const client: HttpClientChoice | undefined = server.url === undefined
    ? undefined
    : injected === undefined
    ? chooseHttpClient(server.url, caCerts, (name) => Deno.env.get(name))
    : { mode: "fetch", reason: "an injected fetch" };
  const countBytes: ByteCounter = (direction, bytes) =>
    metrics.upstreamBytes.inc({ server: server.name, direction }, bytes);
  const transport = () =>
    createTransport(server, {
      fetchImpl,
      client,
      log,
      version,
      countBytes,
      withheldEnv: context.secretEnv(),
    });
  /** The era the server spoke last, so new instances and reconnects need no probe for a while. */
  let learned: { era: "legacy" | "modern"; until: number } | undefined;
  return new Supervisor({
    config: server,
    ...(lists === undefined ? {} : { lists }),
    clock,
    log,
    redact: context.redact,
    onChange: context.onChange,
    events: upstreamEvents(metrics, server, clock),
    onNotification: (notification, sessionId) =>
      context.onNotification(server.name, notification, sessionId),
    onRequest: context.onRequest,
    ...(perSession(server) ? { perSession: { maxInstances: server.max_instances } } : {}),
    createClient: (handlers, capabilities) =>
      new RpcClient({
        server: server.name,
        transport: transport(),
        era: server.protocol === "sse"
          ? "legacy"
          : learned !== undefined && learned.until > clock.now()
          ? learned.era
          : server.era,
        ...(server.command !== undefined ? { probeTransport: transport } : {}),
        onEra: (
          era,
        ) => (learned = era === undefined
          ? undefined
          : { era, until: clock.now() + ERA_MEMORY_MS }),
        onSessionReset: () =>
          metrics.sessionResets.inc({ server: server.name, reason: "unknown_session" }),
        clientInfo: { name: "mcpstead", version },
        capabilities: capabilities ?? UPSTREAM_CAPABILITIES,
        handlers,
        log,
        timeoutMs: server.timeout * 1000,
      }),
  });
}

/** What a new transport is built with besides its server's config. */
interface TransportParts {
  fetchImpl: FetchLike;
  /** How Streamable HTTP reaches the upstream. */
  client: HttpClientChoice | undefined;
  log: Logger;
  version: string;
  countBytes: ByteCounter;
  withheldEnv: readonly string[];
}

/** Whether a server runs one upstream instance per downstream session. */
function perSession(server: ServerConfig): boolean {
  return server.command === undefined
    ? server.session === "per_client"
    : server.sharing === "per_session";
}

/**
 * The transport of one new upstream session: a child process for `command`, MCP over HTTP for
 * `url`, calls to the HTTP API its document describes for `openapi`.
 */
function createTransport(server: ServerConfig, parts: TransportParts): MessageTransport {
  const { fetchImpl, log, version, countBytes } = parts;
  if (server.command !== undefined) {
    return new StdioTransport({
      server: server.name,
      countBytes,
      command: server.command,
      args: server.args,
      env: server.env,
      inheritEnv: server.inherit_env,
      withheldEnv: parts.withheldEnv,
      ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
      log,
    });
  }
  const userAgent = `mcpstead/${version}`;
  if (server.openapi !== undefined) {
    return new OpenApiTransport({
      server: server.name,
      document: server.openapi,
      ...(server.base_url === undefined ? {} : { baseUrl: server.base_url }),
      headers: upstreamHeaders(server),
      userAgent,
      fetch: fetchImpl,
      log,
      countBytes,
    });
  }
  const http: HttpTransportOptions = {
    server: server.name,
    url: server.url!,
    headers: upstreamHeaders(server),
    accept: server.quirks.inject_accept_header,
    normalizeSseEvents: server.quirks.normalize_sse_events,
    userAgent,
    fetch: fetchImpl,
    log,
    countBytes,
  };
  const streamable = () =>
    new StreamableHttpTransport(
      parts.client === undefined ? http : { ...http, client: parts.client },
    );
  const legacy = () => new LegacySseTransport({ ...http, timeoutMs: server.timeout * 1000 });
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
    retried: () => metrics.retries.inc(labels),
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

/** Deno's `fetch`, trusting `caCerts` (a server's `tls_ca_file`) besides the default roots. */
function defaultFetch(caCerts: string[] | undefined): FetchLike {
  if (caCerts === undefined) return (input, init) => fetch(input, init);
  const client = Deno.createHttpClient({ caCerts });
  return (input, init) => fetch(input, { ...init, client });
}
