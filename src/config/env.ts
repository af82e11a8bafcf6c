/**
 * The environment step of loading: `${VAR}` expansion in upstream headers, stdio servers' `env`
 * and the bearer tokens,
 * read from variables the file names (a secret never sits in the file, DESIGN §3 Auth).
 */
import { quote } from "./format.ts";
import type { PathIssue } from "./issues.ts";
import { createHash } from "node:crypto";
import type {
  ClientIdentity,
  Config,
  DownstreamAuth,
  ParsedConfig,
  ParsedServer,
  ServerConfig,
  UpstreamAuth,
} from "./schema.ts";

/** Reads one environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** The variable that holds the downstream bearer token (mcpstead's name for it). */
export const BEARER_TOKEN_VAR = "MCPSTEAD_BEARER_TOKEN";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be an environment variable name: letters, digits and "_", no leading digit. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** Expands every `${VAR}` in `text` from `env`; `$$` is a literal `$`, as is a lone `$`. */
export function expandEnv(text: string, env: EnvLookup): { value: string } | { error: string } {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar === -1) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const close = text.indexOf("}", dollar + 2);
      if (close === -1) return { error: "unterminated '${' (write '$$' for a literal '$')" };
      const name = text.slice(dollar + 2, close);
      if (!isEnvName(name)) {
        return { error: `invalid variable name ${quote(name)} in '\${...}'` };
      }
      const value = lookup(env, name);
      if ("error" in value) return value;
      if (value.value === undefined) return { error: notSet(name) };
      out += value.value;
      i = close + 1;
    } else {
      out += "$";
      i = dollar + 1;
    }
  }
  return { value: out + text.slice(i) };
}

/**
 * Reads every variable the parsed config names; the problems come back as issues. The names read
 * (and MCPSTEAD_BEARER_TOKEN, always) are the config's `secret_env`.
 */
export function resolveConfig(
  parsed: ParsedConfig,
  env: EnvLookup,
): { config: Config; issues: PathIssue[] } {
  const issues: PathIssue[] = [];
  const names = new Set([BEARER_TOKEN_VAR]);
  const tracked: EnvLookup = (name) => {
    names.add(name);
    return env(name);
  };
  const servers = parsed.servers.map((server, index) =>
    resolveServer(server, ["servers", index], tracked, issues)
  );
  const auth = resolveDownstreamAuth(parsed.mcp.auth, ["mcp", "auth"], tracked, issues);
  const cluster = parsed.cluster && {
    cluster: {
      ...parsed.cluster,
      redis_url: resolveRedisUrl(parsed.cluster.redis_url, tracked, issues),
    },
  };
  const config = {
    ...parsed,
    mcp: { ...parsed.mcp, auth },
    ...cluster,
    servers,
    secret_env: [...names].sort(),
  };
  return { config, issues };
}

/** Expands the headers and reads the auth token of the server at `path`. */
export function resolveServer(
  server: ParsedServer,
  path: readonly PropertyKey[],
  env: EnvLookup,
  issues: PathIssue[],
): ServerConfig {
  const headers: [string, string][] = [];
  for (const [name, raw] of Object.entries(server.headers)) {
    const expanded = expandEnv(raw, env);
    const at = [...path, "headers", name];
    if ("error" in expanded) issues.push({ path: at, reason: expanded.error, at: "value" });
    else if (/[\r\n\0]/.test(expanded.value)) {
      issues.push({
        path: at,
        reason: `the value of header ${quote(name)} contains a line break or NUL character`,
        at: "value",
      });
    } else headers.push([name, expanded.value]);
  }
  const childEnv: [string, string][] = [];
  for (const [name, raw] of Object.entries(server.env)) {
    const expanded = expandEnv(raw, env);
    if ("error" in expanded) {
      issues.push({ path: [...path, "env", name], reason: expanded.error, at: "value" });
    } else childEnv.push([name, expanded.value]);
  }
  const auth = resolveUpstreamAuth(server.auth, [...path, "auth"], env, issues);
  return {
    ...server,
    headers: Object.fromEntries(headers),
    env: Object.fromEntries(childEnv),
    auth,
  };
}

/**
 * `cluster.redis_url` with its `${VAR}`s expanded: a `redis:` or `rediss:` (TLS) URL. Messages
 * never show it, since it may hold a password.
 */
function resolveRedisUrl(raw: string, env: EnvLookup, issues: PathIssue[]): string {
  const path = ["cluster", "redis_url"];
  const expanded = expandEnv(raw, env);
  if ("error" in expanded) {
    issues.push({ path, reason: expanded.error, at: "value" });
    return "";
  }
  const url = URL.parse(expanded.value);
  if (url === null || !/^rediss?:$/.test(url.protocol) || url.hostname === "") {
    issues.push({
      path,
      reason: "redis_url must be a URL such as redis://host:6379/0 (rediss:// for TLS; " +
        "write a password as ${VAR})",
      at: "value",
    });
  }
  return expanded.value;
}

/** Reads the downstream secrets: MCPSTEAD_BEARER_TOKEN in bearer mode, each client's key_env in keys mode. */
export function resolveDownstreamAuth(
  auth: ParsedConfig["mcp"]["auth"],
  path: readonly PropertyKey[],
  env: EnvLookup,
  issues: PathIssue[],
): DownstreamAuth {
  const scopes = (c: ClientIdentity) => ({
    name: c.name,
    admin: c.admin,
    tools: c.tools,
    prompts: c.prompts,
    resources: c.resources,
  });
  switch (auth.mode) {
    case "none":
      return { mode: "none" };
    case "basic":
      return {
        mode: "basic",
        users: auth.users.map((u) => ({ ...scopes(u), passwordSha256: u.password_sha256 })),
      };
    case "keys":
      return {
        mode: "keys",
        clients: auth.clients.map((client, index) => {
          if (client.key_env === undefined) {
            return { ...scopes(client), keySha256: client.key_sha256 ?? "" };
          }
          const value = required(
            env,
            client.key_env,
            [...path, "clients", index, "key_env"],
            issues,
          );
          return { ...scopes(client), keySha256: createHash("sha256").update(value).digest("hex") };
        }),
      };
    case "bearer": {
      const token = lookup(env, BEARER_TOKEN_VAR);
      let state: string | undefined;
      if ("error" in token) state = token.error;
      else if (token.value === undefined) state = "it is not set";
      else if (token.value === "") state = "it is empty";
      if (state !== undefined) {
        issues.push({
          path: [...path, "mode"],
          reason: `mode 'bearer' needs the environment variable ${BEARER_TOKEN_VAR} (${state})`,
          at: "value",
        });
      }
      return { mode: "bearer", token: "value" in token ? token.value ?? "" : "" };
    }
  }
}

/** Reads a variable that must be set and non-empty; a problem becomes an issue at `path`. */
function required(
  env: EnvLookup,
  name: string,
  path: readonly PropertyKey[],
  issues: PathIssue[],
): string {
  const value = lookup(env, name);
  let reason: string | undefined;
  if ("error" in value) reason = value.error;
  else if (value.value === undefined) reason = notSet(name);
  else if (value.value === "") reason = `environment variable ${quote(name)} is empty`;
  if (reason !== undefined) issues.push({ path, reason, at: "value" });
  return "value" in value ? value.value ?? "" : "";
}

function resolveUpstreamAuth(
  auth: ParsedServer["auth"],
  path: readonly PropertyKey[],
  env: EnvLookup,
  issues: PathIssue[],
): UpstreamAuth {
  if (auth.type === "none") return { type: "none" };
  const token = required(env, auth.token_env, [...path, "token_env"], issues);
  return { type: "bearer", token_env: auth.token_env, token };
}

function notSet(name: string): string {
  return `environment variable ${quote(name)} is not set`;
}

/** Reads a variable; a lookup that throws (no --allow-env for it) becomes a message. */
function lookup(env: EnvLookup, name: string): { value: string | undefined } | { error: string } {
  try {
    return { value: env(name) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { error: `Cannot read environment variable ${quote(name)}: ${why}` };
  }
}
