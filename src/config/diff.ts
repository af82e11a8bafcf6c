/**
 * The pure step of reload: what changed between two loaded configs. Servers are matched by
 * name; a change to how the gateway reaches a server restarts it, a change to how it treats it
 * (deadline, reconnect policy, refresh interval, `required`) is applied in place.
 */
import type { Config, ServerConfig } from "./schema.ts";

/** Server names by what a reload does to them, and keys that need a restart. */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  restarted: string[];
  updated: string[];
  unchanged: string[];
  /** Changed keys that only take effect when the gateway restarts (e.g. `port`). */
  restartRequired: string[];
}

const IN_PLACE: ReadonlyArray<keyof ServerConfig> = ["required", "timeout", "reconnect", "tools"];
const RESTART_ONLY = [
  "host",
  "port",
  "logging",
  "mcp.session",
  "mcp.limits.header_timeout_seconds",
  "mcp.limits.idle_timeout_seconds",
  "mcp.limits.max_connections",
  "cluster",
] as const;

/** Compares two configs; pure. */
export function diffConfigs(before: Config, after: Config): ConfigDiff {
  const diff: ConfigDiff = {
    added: [],
    removed: [],
    restarted: [],
    updated: [],
    unchanged: [],
    restartRequired: [],
  };
  const old = new Map(before.servers.map((s) => [s.name, s]));
  const next = new Set(after.servers.map((s) => s.name));
  for (const server of after.servers) {
    const previous = old.get(server.name);
    if (!previous) diff.added.push(server.name);
    else if (same(without(previous, IN_PLACE), without(server, IN_PLACE))) {
      (same(previous, server) ? diff.unchanged : diff.updated).push(server.name);
    } else diff.restarted.push(server.name);
  }
  for (const server of before.servers) if (!next.has(server.name)) diff.removed.push(server.name);
  for (const key of RESTART_ONLY) {
    if (!same(pick(before, key), pick(after, key))) diff.restartRequired.push(key);
  }
  return diff;
}

function without(
  server: ServerConfig,
  keys: ReadonlyArray<keyof ServerConfig>,
): Partial<ServerConfig> {
  const copy: Partial<ServerConfig> = { ...server };
  for (const key of keys) delete copy[key];
  return copy;
}

function pick(config: Config, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (value, key) => (value as Record<string, unknown>)?.[key],
    config,
  );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
