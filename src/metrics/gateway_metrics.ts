/**
 * The gateway's metric families: every `mcpstead_*` family of the Rust mcpstead (one renamed, see
 * README "Metrics") plus what our features add. Label values are bounded: servers come from the
 * config, tools from the catalog (anything else is `unknown`), methods from the MCP method set,
 * reasons and results from fixed lists.
 */
import { DURATION_BUCKETS, SESSION_DURATION_BUCKETS } from "./buckets.ts";
import { type ProcessMetricsOptions, registerProcessMetrics } from "./process.ts";
import { Registry } from "./registry.ts";

/** What the collectors read at scrape time for one upstream. */
export interface UpstreamSnapshot {
  server: string;
  connected: boolean;
  tools: number;
  reconnects: number;
  /** Seconds since the last success; undefined if never. */
  lastSeenSecondsAgo: number | undefined;
  inBackoff: boolean;
  currentBackoffSeconds: number;
  instances: number;
  /** 0 closed, 1 open, 2 half-open. */
  circuit: number;
}

/** Live values read at scrape time. */
export interface MetricsSources {
  upstreams(): readonly UpstreamSnapshot[];
  sessionsActive(): number;
}

const MCP_METHODS = new Set([
  "invalid",
  "listen",
  "terminate",
  "initialize",
  "notifications/initialized",
  "ping",
  "tools/list",
  "tools/call",
  "prompts/list",
  "prompts/get",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "completion/complete",
  "logging/setLevel",
  "notifications/cancelled",
  "notifications/roots/list_changed",
]);

/** The bounded `method` label of a request: a known MCP method, or `unknown`. */
export function methodLabel(method: unknown): string {
  return typeof method === "string" && MCP_METHODS.has(method) ? method : "unknown";
}

/** Creates the registry with every gateway family, and typed recorders for the events that drive them. */
export function createGatewayMetrics(sources: MetricsSources, options: ProcessMetricsOptions = {}) {
  const registry = new Registry();
  registerProcessMetrics(registry, options);
  const upstream = (
    name: string,
    help: string,
    pick: (u: UpstreamSnapshot) => number,
    type: "gauge" | "counter" = "gauge",
  ) =>
    registry[type]({
      name,
      help,
      labelNames: ["server"] as const,
      collect: () =>
        sources.upstreams().map((u) => ({ labels: { server: u.server }, value: pick(u) })),
    });
  upstream(
    "mcpstead_upstream_connected",
    "Whether the upstream is connected (1) or not (0).",
    (u) => Number(u.connected),
  );
  upstream(
    "mcpstead_upstream_tools",
    "Tools the upstream lists (mcpstead 0.1's mcpstead_upstream_tools_count).",
    (u) => u.tools,
  );
  upstream(
    "mcpstead_upstream_reconnects_total",
    "Failed connection attempts since the upstream was configured.",
    (u) => u.reconnects,
    "counter",
  );
  upstream(
    "mcpstead_upstream_last_seen_seconds",
    "Seconds since the upstream last answered; -1 if never.",
    (u) => u.lastSeenSecondsAgo ?? -1,
  );
  upstream(
    "mcpstead_upstream_in_backoff",
    "Whether the upstream is waiting before a reconnect.",
    (u) => Number(u.inBackoff),
  );
  upstream(
    "mcpstead_upstream_current_backoff_seconds",
    "The current reconnect delay, 0 when not in backoff.",
    (u) => u.currentBackoffSeconds,
  );
  upstream(
    "mcpstead_upstream_instances",
    "Per-session upstream instances running (sharing: per_session, session: per_client).",
    (u) => u.instances,
  );
  upstream(
    "mcpstead_upstream_circuit_state",
    "The upstream's circuit breaker: 0 closed, 1 open, 2 half-open.",
    (u) => u.circuit,
  );
  registry.gauge({
    name: "mcpstead_downstream_sessions_active",
    help: "Open downstream sessions.",
    collect: () => [{ value: sources.sessionsActive() }],
  });
  const metrics = {
    registry,
    sessionsTotal: registry.counter({
      name: "mcpstead_downstream_sessions_total",
      help: "Downstream sessions created.",
    }),
    sessionDuration: registry.histogram({
      name: "mcpstead_downstream_session_duration_seconds",
      help: "How long downstream sessions lasted.",
      buckets: SESSION_DURATION_BUCKETS,
    }),
    sessionTerminations: registry.counter({
      name: "mcpstead_downstream_session_terminations_total",
      help: "Downstream sessions ended, by reason.",
      labelNames: ["reason"] as const,
    }),
    toolCalls: registry.counter({
      name: "mcpstead_tool_calls_total",
      help: "Tool calls routed to an upstream.",
      labelNames: ["server", "tool"] as const,
    }),
    toolCallErrors: registry.counter({
      name: "mcpstead_tool_call_errors_total",
      help: "Tool calls that failed or returned isError, by reason.",
      labelNames: ["server", "tool", "reason"] as const,
    }),
    toolCallDuration: registry.histogram({
      name: "mcpstead_tool_call_duration_seconds",
      help: "Duration of tool calls through the gateway.",
      labelNames: ["server", "tool"] as const,
      buckets: DURATION_BUCKETS,
    }),
    requests: registry.counter({
      name: "mcpstead_mcp_requests_total",
      help: "Downstream MCP messages, by method and result.",
      labelNames: ["method", "result"] as const,
    }),
    requestDuration: registry.histogram({
      name: "mcpstead_mcp_request_duration_seconds",
      help: "Duration of downstream MCP requests.",
      labelNames: ["method"] as const,
      buckets: DURATION_BUCKETS,
    }),
    initialize: registry.counter({
      name: "mcpstead_upstream_initialize_total",
      help: "Upstream initialize handshakes, by result.",
      labelNames: ["server", "result"] as const,
    }),
    initializeDuration: registry.histogram({
      name: "mcpstead_upstream_initialize_duration_seconds",
      help: "Duration of upstream initialize handshakes.",
      labelNames: ["server"] as const,
      buckets: DURATION_BUCKETS,
    }),
    healthChecks: registry.counter({
      name: "mcpstead_upstream_health_checks_total",
      help: "Upstream health checks (connects and refreshes), by result.",
      labelNames: ["server", "result"] as const,
    }),
    reconnectAttempts: registry.counter({
      name: "mcpstead_upstream_reconnect_attempts_total",
      help: "Upstream reconnect attempts, by result.",
      labelNames: ["server", "result"] as const,
    }),
    backoffSeconds: registry.counter({
      name: "mcpstead_upstream_backoff_seconds_total",
      help: "Time spent waiting before reconnects.",
      labelNames: ["server"] as const,
    }),
    sessionResets: registry.counter({
      name: "mcpstead_upstream_session_resets_total",
      help: "Upstream sessions found expired and re-initialized.",
      labelNames: ["server", "reason"] as const,
    }),
    refreshes: registry.counter({
      name: "mcpstead_upstream_tools_refresh_total",
      help: "Upstream list refreshes, by result.",
      labelNames: ["server", "result"] as const,
    }),
    refreshDuration: registry.histogram({
      name: "mcpstead_upstream_tools_refresh_duration_seconds",
      help: "Duration of upstream list refreshes.",
      labelNames: ["server"] as const,
      buckets: DURATION_BUCKETS,
    }),
    lastRefresh: registry.gauge({
      name: "mcpstead_upstream_tools_last_refresh_timestamp_seconds",
      help: "Unix time of the last successful refresh.",
      labelNames: ["server"] as const,
    }),
    retries: registry.counter({
      name: "mcpstead_upstream_retries_total",
      help: "Requests that were safe to repeat and were sent again.",
      labelNames: ["server"] as const,
    }),
    rateLimited: registry.counter({
      name: "mcpstead_rate_limited_total",
      help: "Requests refused by a rate or concurrency limit, by scope (client or upstream).",
      labelNames: ["scope", "name"] as const,
    }),
    clientRequests: registry.counter({
      name: "mcpstead_client_requests_total",
      help: "Downstream requests by authenticated client.",
      labelNames: ["client"] as const,
    }),
    restarts: registry.counter({
      name: "mcpstead_upstream_restarts_total",
      help: "stdio upstream processes that ended unexpectedly and were restarted.",
      labelNames: ["server"] as const,
    }),
    authAttempts: registry.counter({
      name: "mcpstead_mcp_auth_attempts_total",
      help: "Downstream authentication attempts, by result.",
      labelNames: ["result"] as const,
    }),
    authFailures: registry.counter({
      name: "mcpstead_mcp_auth_failures_total",
      help: "Downstream authentication failures, by reason.",
      labelNames: ["reason"] as const,
    }),
    reloads: registry.counter({
      name: "mcpstead_config_reloads_total",
      help: "Config reloads, by result.",
      labelNames: ["result"] as const,
    }),
    lastReload: registry.gauge({
      name: "mcpstead_config_last_reload_timestamp_seconds",
      help: "Unix time of the last successful reload.",
    }),
    upstreamBytes: registry.counter({
      name: "mcpstead_upstream_bytes_total",
      help: "Bytes sent to and received from upstreams.",
      labelNames: ["server", "direction"] as const,
    }),
  };
  return metrics;
}

/** The gateway's metrics. */
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
