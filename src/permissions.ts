/**
 * Startup preflight for sandboxed runs (DESIGN §1): the Deno permissions a config needs, which of
 * them the process lacks, and the flags that grant them. A missing permission then fails at
 * startup with the flag to add, instead of at the first request.
 *
 * Measured under Deno 2.9.5 (README "Sandboxed runs"): `--allow-net` for the listen address and
 * every upstream `host:port`, `--allow-read` for the config file (and `--watch` needs nothing
 * more) and every `tls_ca_file`, `--allow-env` for the YAML parser's `LOG_TOKENS`/`LOG_STREAM`,
 * the variables the config names and `PATH` (given to stdio children), `--allow-run` for every
 * stdio command. The whole environment for `inherit_env: true` (the child gets it without the
 * gateway's secrets, so the gateway reads it) and for `cluster` (the Redis client lists it when it
 * loads); `--allow-sys=hostname` for a replica on a wildcard address that advertises its host
 * name. No `--allow-write`.
 *
 * @module
 */
import { type Config, type EnvLookup, resolveConfigPath } from "./config/mod.ts";
import { isUnspecifiedHost } from "./http/origin.ts";

/** The permission kinds mcpstead uses, named as in `--allow-<kind>`. */
export type PermissionKind = "net" | "read" | "env" | "run" | "sys";

/** One permission the gateway needs. */
export interface PermissionNeed {
  /** Which `--allow-<kind>` flag grants it. */
  kind: PermissionKind;
  /** The flag value: `host:port`, a path, a variable name, a command or a `sys` kind; {@link ALL} for the flag without a list. */
  value: string;
  /** What needs it, for messages ("upstream 'github'"). */
  reason: string;
}

/** Answers whether a permission is granted; the default is `Deno.permissions.querySync`. */
export type PermissionQuery = (descriptor: Deno.PermissionDescriptor) => Deno.PermissionState;

/** Variables the `yaml` package reads on every parse (parser.js, composer.js). */
export const YAML_ENV_VARS: readonly string[] = ["LOG_TOKENS", "LOG_STREAM"];

/** An `env` need's value for the whole environment (`--allow-env` without a list). */
export const ALL = "";

const ORDER: readonly PermissionKind[] = ["net", "read", "env", "run", "sys"];
const UNREADABLE = "(no permission to read this variable)";

/** The real process's permission state; a descriptor Deno cannot parse counts as denied. */
export function queryProcess(descriptor: Deno.PermissionDescriptor): Deno.PermissionState {
  try {
    return Deno.permissions.querySync(descriptor).state;
  } catch {
    return "denied";
  }
}

/** The permissions needed to read the config at `path`: the file and the YAML parser's variables. */
export function loadNeeds(path: string): PermissionNeed[] {
  return [
    { kind: "read", value: path, reason: "the config file" },
    ...YAML_ENV_VARS.map((name): PermissionNeed => ({
      kind: "env",
      value: name,
      reason: "the YAML parser",
    })),
  ];
}

/**
 * Everything serving `config` (read from `path`) needs: the listen address, every upstream
 * `host:port` (for an OpenAPI upstream, where its document is and its `base_url`; without
 * `base_url`, the host the document names is only known once it is read), every stdio command (relative ones resolved against the server's `cwd`, as Deno
 * does), every `tls_ca_file`, the cluster store, the variables in `envNames` and `PATH` for
 * stdio children.
 */
export function configNeeds(
  config: Config,
  path: string,
  envNames: Iterable<string> = [],
): PermissionNeed[] {
  const needs = loadNeeds(path);
  needs.push({
    kind: "net",
    value: hostPort(config.host, config.port),
    reason: "the listen address",
  });
  let childPath = false;
  for (const server of config.servers) {
    const reason = `upstream '${server.name}'`;
    if (server.url !== undefined) needs.push(netNeed(server.url, reason));
    if (server.openapi !== undefined) {
      needs.push(
        /^https?:/i.test(server.openapi)
          ? netNeed(server.openapi, `the OpenAPI document of ${reason}`)
          : { kind: "read", value: server.openapi, reason: `the OpenAPI document of ${reason}` },
      );
    }
    if (server.base_url !== undefined) needs.push(netNeed(server.base_url, reason));
    if (server.command !== undefined) {
      needs.push({ kind: "run", value: commandPath(server.command, server.cwd), reason });
      if (server.inherit_env) {
        needs.push({ kind: "env", value: ALL, reason: `inherit_env of ${reason}` });
      } else childPath = true;
    }
    if (server.tls_ca_file !== undefined) {
      needs.push({ kind: "read", value: server.tls_ca_file, reason: `tls_ca_file of ${reason}` });
    }
  }
  if (config.cluster !== undefined) {
    const redis = new URL(config.cluster.redis_url);
    const port = redis.port === "" ? 6379 : Number(redis.port);
    needs.push({ kind: "net", value: hostPort(redis.hostname, port), reason: "cluster.redis_url" });
    needs.push({ kind: "env", value: ALL, reason: "the Redis client (it lists the environment)" });
    if (config.cluster.advertise_url === undefined && isUnspecifiedHost(config.host)) {
      needs.push({
        kind: "sys",
        value: "hostname",
        reason: "the address this replica advertises (or set cluster.advertise_url)",
      });
    }
  }
  for (const name of envNames) {
    needs.push({ kind: "env", value: name, reason: "a variable the config names" });
  }
  if (childPath) needs.push({ kind: "env", value: "PATH", reason: "the PATH of stdio children" });
  return unique(needs);
}

/** Network access to the `host:port` of an http(s) URL. */
function netNeed(href: string, reason: string): PermissionNeed {
  const url = new URL(href);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return { kind: "net", value: hostPort(url.hostname, port), reason };
}

/** The needs that `query` says are not granted. */
export function missingPermissions(
  needs: readonly PermissionNeed[],
  query: PermissionQuery = queryProcess,
): PermissionNeed[] {
  return needs.filter((need) => query(descriptor(need)) !== "granted");
}

/**
 * The `--allow-*` flags that grant exactly `needs`, one per kind, in a fixed order; a kind that
 * needs {@link ALL} gets its flag without a list.
 */
export function permissionFlags(needs: readonly PermissionNeed[]): string[] {
  return ORDER.flatMap((kind) => {
    const values = [...new Set(needs.filter((n) => n.kind === kind).map((n) => n.value))];
    if (values.length === 0) return [];
    return values.includes(ALL) ? [`--allow-${kind}`] : [`--allow-${kind}=${values.join(",")}`];
  });
}

/**
 * The startup message for `missing` out of `needs`: a flag can be given only once, so each kind
 * that lacks something is shown with every value it needs, e.g.
 * `missing permission: run with --allow-net=127.0.0.1:8766 (needed for the listen address)`.
 */
export function describeMissing(
  missing: readonly PermissionNeed[],
  needs: readonly PermissionNeed[],
): string {
  const kinds = new Set(missing.map((need) => need.kind));
  const flags = permissionFlags(needs.filter((need) => kinds.has(need.kind)));
  const byReason = new Map<string, string[]>();
  for (const need of missing) {
    const value = need.value === ALL ? "every variable" : need.value;
    byReason.set(need.reason, [...byReason.get(need.reason) ?? [], value]);
  }
  const reasons = [...byReason].map(([reason, values]) => `${reason}: ${values.join(", ")}`);
  const noun = missing.length === 1 ? "permission" : "permissions";
  return `missing ${noun}: run with ${flags.join(" ")} (needed for ${reasons.join("; ")})`;
}

/** The outcome of {@linkcode discoverConfig}. */
export interface Discovery {
  /** The config path found, if any. */
  path?: string;
  /** What the search needed (the variables and the candidate files it looked at). */
  needs: PermissionNeed[];
  /** The part of `needs` not granted: the search could not look there. */
  missing: PermissionNeed[];
}

/**
 * Finds the config file as `resolveConfigPath` does (`--config`, MCPSTEAD_CONFIG, then the
 * default places), but a variable or candidate file the process may not read is recorded in
 * `missing` instead of being skipped silently. HOME is read only when the search gets that far.
 */
export function discoverConfig(
  flag: string | undefined,
  read: EnvLookup,
  exists: (path: string) => boolean,
  query: PermissionQuery = queryProcess,
): Discovery {
  if (flag !== undefined) return { path: flag, needs: [], missing: [] };
  const needs: PermissionNeed[] = [];
  const missing: PermissionNeed[] = [];
  const allowed = (need: PermissionNeed): boolean => {
    needs.push(need);
    if (missingPermissions([need], query).length === 0) return true;
    missing.push(need);
    return false;
  };
  const reason = "config discovery (or pass --config)";
  const env = (name: string) =>
    allowed({ kind: "env", value: name, reason }) ? read(name) : undefined;
  const fromEnv = env("MCPSTEAD_CONFIG");
  const home = fromEnv === undefined || fromEnv === "" ? env("HOME") : undefined;
  const found = resolveConfigPath({
    env: (name) => (name === "MCPSTEAD_CONFIG" ? fromEnv : env(name)),
    exists: (path) => allowed({ kind: "read", value: path, reason }) && exists(path),
    ...(home === undefined ? {} : { home }),
  });
  return { ...(found === undefined ? {} : { path: found.path }), needs, missing };
}

/** Whether the process may signal any process, which stopping a child's process group needs. */
export function canSignalProcessGroups(query: PermissionQuery = queryProcess): boolean {
  // Deno 2.9.5 checks Deno.kill() against --allow-run for all commands, not a list.
  return query({ name: "run" }) === "granted";
}

/** An environment lookup that remembers every name the config asked for. */
export interface TrackedEnv {
  /** The lookup to load the config with. */
  env: EnvLookup;
  /** Every variable name looked up, in order. */
  names: Set<string>;
}

/**
 * Wraps `read` so every name asked for is remembered. With `query`, a variable the process may
 * not read yields a placeholder instead of throwing, so one load gets through and finds every
 * permission the preflight must report; such a config is never served.
 */
export function trackEnv(read: EnvLookup, query?: PermissionQuery): TrackedEnv {
  const names = new Set<string>();
  const env: EnvLookup = (name) => {
    names.add(name);
    if (query !== undefined && query({ name: "env", variable: name }) !== "granted") {
      return UNREADABLE;
    }
    return read(name);
  };
  return { env, names };
}

function descriptor(need: PermissionNeed): Deno.PermissionDescriptor {
  switch (need.kind) {
    case "net":
      return { name: "net", host: need.value };
    case "read":
      return { name: "read", path: need.value };
    case "env":
      return need.value === ALL ? { name: "env" } : { name: "env", variable: need.value };
    case "run":
      return { name: "run", command: need.value };
    case "sys":
      return { name: "sys", kind: need.value as "hostname" };
  }
}

/** `host:port` as Deno's net permission spells it (IPv6 in brackets). */
function hostPort(host: string, port: number): string {
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  return `${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
}

/** Deno resolves a relative command with a slash against the child's cwd; names via PATH. */
function commandPath(command: string, cwd: string | undefined): string {
  if (cwd === undefined || command.startsWith("/") || !command.includes("/")) return command;
  return `${cwd.replace(/\/+$/, "")}/${command.replace(/^\.\//, "")}`;
}

function unique(needs: PermissionNeed[]): PermissionNeed[] {
  const seen = new Set<string>();
  return needs.filter((need) => {
    const key = `${need.kind}\0${need.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
