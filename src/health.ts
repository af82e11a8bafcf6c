/** The health report served by `GET /health`: every upstream's state, with no secret in it. */
import { redactUrl, type ServerConfig } from "./config/mod.ts";
import type { Supervisor } from "./upstream/supervisor.ts";

/** A health report, as served by `GET /health`. */
export interface HealthReport {
  status: "ok" | "degraded";
  version: string;
  uptime_seconds: number;
  sessions: number;
  servers: Array<Record<string, unknown>>;
  /** Present on a cluster replica. */
  cluster?: Record<string, unknown>;
}

/** One running server, as the report reads it. */
export interface ServerEntry {
  config: ServerConfig;
  supervisor: Supervisor;
}

/** The report for these servers at `now`. */
export function healthReport(
  servers: readonly ServerEntry[],
  facts: {
    version: string;
    uptimeSeconds: number;
    sessions: number;
    now: number;
    cluster?: Record<string, unknown>;
  },
): HealthReport {
  const entries = servers.map(({ config: server, supervisor }) => {
    const status = supervisor.status();
    return {
      name: server.name,
      ...target(server),
      transport: status.transport ?? null,
      http_client: status.httpClient?.mode ?? null,
      http_client_reason: status.httpClient?.reason ?? null,
      era: status.era ?? null,
      protocol_version: status.protocolVersion ?? null,
      required: server.required,
      connected: status.connected,
      state: status.phase,
      tools_count: status.toolsCount,
      tools_stale: status.stale,
      last_seen_seconds_ago: status.lastSeen === undefined
        ? null
        : (facts.now - status.lastSeen) / 1000,
      reconnects: status.reconnects,
      last_error: status.lastError ?? null,
      circuit: supervisor.circuit,
    };
  });
  const clusterOk = facts.cluster === undefined || facts.cluster.status === "ok";
  return {
    status: entries.every((s) => s.connected) && clusterOk ? "ok" : "degraded",
    version: facts.version,
    uptime_seconds: facts.uptimeSeconds,
    sessions: facts.sessions,
    servers: entries,
    ...(facts.cluster === undefined ? {} : { cluster: facts.cluster }),
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
