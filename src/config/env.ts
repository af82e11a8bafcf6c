/**
 * The environment step of loading: `${VAR}` expansion in upstream headers, stdio servers' `env`
 * and the bearer tokens,
 * read from variables the file names (a secret never sits in the file, DESIGN §3 Auth).
 */
import { quote } from "./format.ts";
import type { PathIssue } from "./issues.ts";
import type {
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

/** Reads every variable the parsed config names; the problems come back as issues. */
export function resolveConfig(
  parsed: ParsedConfig,
  env: EnvLookup,
): { config: Config; issues: PathIssue[] } {
  const issues: PathIssue[] = [];
  const servers = parsed.servers.map((server, index) =>
    resolveServer(server, ["servers", index], env, issues)
  );
  const auth = resolveDownstreamAuth(parsed.mcp.auth, ["mcp", "auth"], env, issues);
  return { config: { ...parsed, mcp: { ...parsed.mcp, auth }, servers }, issues };
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

/** Reads the downstream bearer token from MCPSTEAD_BEARER_TOKEN when the mode is bearer. */
export function resolveDownstreamAuth(
  auth: { mode: "none" | "bearer" },
  path: readonly PropertyKey[],
  env: EnvLookup,
  issues: PathIssue[],
): DownstreamAuth {
  if (auth.mode === "none") return { mode: "none" };
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

function resolveUpstreamAuth(
  auth: ParsedServer["auth"],
  path: readonly PropertyKey[],
  env: EnvLookup,
  issues: PathIssue[],
): UpstreamAuth {
  if (auth.type === "none") return { type: "none" };
  const token = lookup(env, auth.token_env);
  let reason: string | undefined;
  if ("error" in token) reason = token.error;
  else if (token.value === undefined) reason = notSet(auth.token_env);
  else if (token.value === "") reason = `environment variable ${quote(auth.token_env)} is empty`;
  if (reason !== undefined) issues.push({ path: [...path, "token_env"], reason, at: "value" });
  const value = "value" in token ? token.value ?? "" : "";
  return { type: "bearer", token_env: auth.token_env, token: value };
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
