/**
 * The zod schema of the mcpstead config file (DESIGN §5): the single source of truth for its keys,
 * types, defaults and rules. It accepts every config of Rust mcpstead 0.1.13 (research/mcpstead.md
 * §2) and rejects unknown keys, which mcpstead silently ignored.
 */
import { z } from "zod";
import {
  count,
  emptyIsAbsent,
  flag,
  forbidden,
  MAX_TIMER_SECONDS,
  millis,
  parsedString,
  seconds,
  section,
} from "./fields.ts";
import { isEnvName } from "./env.ts";
import {
  breakerSchema,
  clientSchema,
  limitsSchema,
  rateLimitSchema,
  retrySchema,
  toolsSchema,
  userSchema,
} from "./security_schema.ts";
import { quote } from "./format.ts";
import { LOG_LEVELS, parseLogLevel } from "./log_level.ts";
import { isHeaderName, isHttpUrl, isPlainUrl, parseHost, parseOrigin, redactUrl } from "./net.ts";

// Timers clamp delays above 2^31-1 ms to 1 ms: a longer period would fire at once.

/** The Accept header sent upstream unless `quirks.inject_accept_header` says otherwise. */
export const DEFAULT_ACCEPT = "application/json, text/event-stream";

// Headers the gateway sets on every upstream request itself (lowercased).
const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ["accept", "is set by the gateway (use quirks.inject_accept_header)"],
  ["content-type", "is set by the gateway"],
  ["content-length", "is set by the gateway"],
  ["host", "is set by the gateway"],
  ["mcp-session-id", "is set by the gateway"],
  ["mcp-protocol-version", "is set by the gateway"],
]);

const AUTH_SHAPE = "auth must be 'none' or a mapping such as {type: bearer, token_env: VAR}";

/** The levels `logging.level` resolves to. */
export const logLevelSchema = z.enum(LOG_LEVELS);

const logLevelInput = z.string().transform((text, ctx): LogLevel => {
  const parsed = parseLogLevel(text);
  if ("level" in parsed) return parsed.level;
  ctx.addIssue({
    code: "custom",
    message: `unknown log level ${quote(parsed.unknownWord)} (expected trace, debug, info, ` +
      "warn or error, or a filter such as 'mcpstead=debug,info')",
  });
  return z.NEVER;
});

const hostSchema = parsedString(
  parseHost,
  (text) => `host ${quote(text)} is neither an IP address nor a host name`,
);

const originSchema = parsedString(
  (text) => {
    const parsed = parseOrigin(text);
    return "origin" in parsed ? parsed.origin : undefined;
  },
  (text) => {
    const parsed = parseOrigin(text);
    const hint = "suggestion" in parsed && parsed.suggestion !== undefined
      ? ` (did you mean ${quote(parsed.suggestion)}?)`
      : "";
    return `origin ${quote(text)} is not of the form scheme://host[:port]${hint}`;
  },
);

const serverName = z.string().superRefine((name, ctx) => {
  const problem = serverNameProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

function serverNameProblem(name: string): string | undefined {
  if (name === "") return "server name cannot be empty";
  if (/\p{Cc}/u.test(name)) return `server name ${quote(name)} cannot contain control characters`;
  if (name.trim() !== name) {
    return `server name ${quote(name)} cannot start or end with whitespace`;
  }
  // Tool names are exposed as <server>__<tool> (DESIGN §3 Names).
  if (name.includes("__")) return `server name ${quote(name)} cannot contain '__'`;
  // A scope glob 'a__*' must match server a's tools and no other server's: so the server part of
  // an exposed name must end right before the first '__' of that name.
  const prefix = toolPrefix(name);
  const suggestion = name.replace(/[^A-Za-z0-9-]{2,}/g, "-").replace(/[^A-Za-z0-9-]+$/, "");
  const rename = suggestion === "" ? "use letters, digits and '-'" : `call it ${quote(suggestion)}`;
  if (prefix.endsWith("_")) {
    return `server name ${quote(name)} cannot end with ${quote(name.at(-1))}: its tools would ` +
      `be named '${prefix}__<tool>', which the scope '${prefix.replace(/_+$/, "")}__*' of ` +
      `another server also matches; ${rename}`;
  }
  if (prefix.includes("__")) {
    return `server name ${quote(name)} cannot have two characters other than letters, digits ` +
      `and '-' in a row: tool names turn them into '__', the separator of <server>__<tool>; ` +
      rename;
  }
  return undefined;
}

/**
 * The server part of the server's exposed tool and prompt names: what `src/mcp/names.ts` makes
 * of a name that is not client-safe (config depends on nothing internal, hence the copy).
 */
function toolPrefix(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** An absolute http(s) URL; `key` names it in the message. */
function httpUrl(key: string) {
  return z.string().refine(isHttpUrl, {
    error: (issue) =>
      `${key} ${quote(redactUrl(String(issue.input)))} is not an absolute http: or https: URL`,
  });
}

// An OpenAPI document: an http(s) URL, or a file path (anything without a scheme).
const openApiSource = z.string().min(1).refine(
  (text) => !/^[A-Za-z][A-Za-z0-9+.-]+:\/\//.test(text) || isHttpUrl(text),
  {
    error: (issue) =>
      `openapi ${
        quote(redactUrl(String(issue.input)))
      } is neither an http: or https: URL nor a file path`,
  },
);

const headersSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  const seen = new Set<string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    let problem: string | undefined;
    if (!isHeaderName(name)) problem = `header name ${quote(name)} is not a valid HTTP header name`;
    else if (RESERVED_HEADERS.has(lower)) {
      problem = `header ${quote(name)} ${RESERVED_HEADERS.get(lower)}`;
    } else if (seen.has(lower)) {
      problem = `duplicate header ${quote(name)} (header names are case-insensitive)`;
    }
    seen.add(lower);
    if (problem !== undefined) {
      ctx.addIssue({ code: "custom", path: [name], message: problem, params: { at: "key" } });
    }
  }
}, { when: (payload) => isRecord(payload.value) });

const childEnvSchema = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const name of Object.keys(env)) {
    if (isEnvName(name)) continue;
    ctx.addIssue({
      code: "custom",
      path: [name],
      message: `${quote(name)} is not an environment variable name (letters, digits and '_')`,
      params: { at: "key" },
    });
  }
}, { when: (payload) => isRecord(payload.value) });

const authNoneString = z.string().transform((text, ctx): ParsedUpstreamAuth => {
  if (text !== "none") ctx.addIssue({ code: "custom", message: AUTH_SHAPE });
  return { type: "none" };
});

const authObject = z.strictObject({
  type: z.enum(["none", "bearer"], {
    error: (issue) =>
      issue.input === undefined
        ? undefined
        : `unsupported auth type ${quote(issue.input)} (expected 'none' or 'bearer')`,
  }),
  token_env: emptyIsAbsent(
    z.string().refine(isEnvName, {
      error: "token_env must be the name of an environment variable (letters, digits and '_'), " +
        "not the token itself",
    }).optional(),
  ),
  token: forbidden(
    "auth.token is not allowed: put the token in an environment variable and name it in token_env",
  ),
}).superRefine((auth, ctx) => {
  if (auth.type === "bearer" && auth.token_env === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["token_env"],
      message:
        "type 'bearer' needs token_env, the name of the environment variable holding the token",
    });
  }
}, { when: (payload) => isRecord(payload.value) }).transform((auth): ParsedUpstreamAuth =>
  auth.type === "bearer" ? { type: "bearer", token_env: auth.token_env ?? "" } : { type: "none" }
);

const upstreamAuthSchema = emptyIsAbsent(
  z.union([authNoneString, authObject], {
    error: (issue) => (issue.code === "invalid_union" ? AUTH_SHAPE : undefined),
  }).default({ type: "none" }),
);

/**
 * One upstream server (`servers[]`) without its cross-field rules: extend this object for new
 * keys, then apply {@linkcode refineServer} as {@linkcode serverSchema} does.
 */
export const serverObjectSchema = z.strictObject({
  name: serverName,
  url: emptyIsAbsent(httpUrl("url").optional()),
  openapi: emptyIsAbsent(openApiSource.optional()),
  base_url: emptyIsAbsent(httpUrl("base_url").optional()),
  command: emptyIsAbsent(z.string().min(1).optional()),
  args: emptyIsAbsent(z.array(z.string()).default([])),
  env: emptyIsAbsent(childEnvSchema.default({})),
  cwd: emptyIsAbsent(z.string().min(1).optional()),
  inherit_env: flag(false),
  sharing: emptyIsAbsent(z.enum(["shared", "per_session"]).default("shared")),
  max_instances: emptyIsAbsent(z.int().min(1).max(10_000).default(32)),
  session: emptyIsAbsent(z.enum(["shared", "per_client"]).default("shared")),
  prefix: flag(true),
  protocol: emptyIsAbsent(z.enum(["auto", "streamable", "sse"]).default("auto")),
  era: emptyIsAbsent(z.enum(["auto", "legacy", "modern"]).default("auto")),
  required: flag(false),
  timeout: emptyIsAbsent(z.number().gt(0).max(MAX_TIMER_SECONDS).default(60)),
  tls_skip_verify: flag(false),
  tls_ca_file: emptyIsAbsent(z.string().min(1).optional()),
  auth: upstreamAuthSchema,
  headers: emptyIsAbsent(headersSchema.default({})),
  reconnect: section({
    max_attempts: count(0),
    backoff_base_ms: millis(1000),
    backoff_max_ms: millis(30_000),
  }),
  tools: toolsSchema,
  retry: retrySchema,
  circuit_breaker: breakerSchema,
  rate_limit: rateLimitSchema,
  max_concurrent: count(0),
  max_queue: count(100),
  quirks: section({
    normalize_sse_events: flag(false),
    inject_accept_header: emptyIsAbsent(z.string().default(DEFAULT_ACCEPT)),
  }),
});

/** What a server is: exactly one of these keys says how the gateway reaches it. */
const SERVER_KINDS = ["url", "command", "openapi"] as const;

/** Cross-field rules of one server entry. */
export function refineServer(
  server: z.output<typeof serverObjectSchema>,
  ctx: z.core.$RefinementCtx<z.output<typeof serverObjectSchema>>,
): void {
  const misplaced = (key: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [key], message, params: { at: "key" } });
  const [first, second] = SERVER_KINDS.filter((key) => server[key] !== undefined);
  if (first === undefined) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "a server needs url (an MCP server over HTTP), command (an MCP server over " +
        "stdio) or openapi (an HTTP API described by an OpenAPI document)",
    });
  } else if (second !== undefined) {
    misplaced(
      second,
      `a server has one of url, command or openapi, not both ${first} and ${second} ` +
        "(split it into two servers)",
    );
  }
  if (server.protocol === "sse" && server.era === "modern") {
    misplaced(
      "era",
      "era 'modern' (MCP 2026-07-28) needs Streamable HTTP; legacy SSE servers speak 2024-11-05 " +
        "(use protocol: auto or streamable, or era: auto)",
    );
  }
  if (server.command !== undefined && server.session !== "shared") {
    misplaced(
      "session",
      "session applies to url servers; a stdio server uses sharing: per_session",
    );
  }
  if (server.url !== undefined && server.sharing !== "shared") {
    misplaced("sharing", "sharing applies to stdio servers; a url server uses session: per_client");
  }
  if (server.command === undefined) {
    for (const key of ["args", "env", "cwd", "inherit_env"] as const) {
      const value = server[key];
      const set = Array.isArray(value)
        ? value.length > 0
        : typeof value === "object"
        ? Object.keys(value).length > 0
        : value !== undefined && value !== false;
      if (set) misplaced(key, `${key} only applies to stdio servers (those with command)`);
    }
  }
  if (server.openapi !== undefined) {
    const mcpOnly = {
      session: server.session !== "shared",
      sharing: server.sharing !== "shared",
      protocol: server.protocol !== "auto",
      era: server.era !== "auto",
      quirks: server.quirks.normalize_sse_events ||
        server.quirks.inject_accept_header !== DEFAULT_ACCEPT,
    };
    for (const [key, set] of Object.entries(mcpOnly)) {
      if (set) misplaced(key, `${key} applies to MCP servers, not to openapi servers`);
    }
  } else if (server.base_url !== undefined) {
    misplaced(
      "base_url",
      "base_url only applies to openapi servers (it replaces the document's servers[0].url)",
    );
  }
  const authorization = Object.keys(server.headers).find((name) =>
    name.toLowerCase() === "authorization"
  );
  if (server.auth.type !== "bearer" || authorization === undefined) return;
  ctx.addIssue({
    code: "custom",
    path: ["headers", authorization],
    message: `header ${quote(authorization)} conflicts with auth type 'bearer' (keep one)`,
    params: { at: "key" },
  });
}

/** One upstream server entry (`servers[]`) with its cross-field rules. */
export const serverSchema = serverObjectSchema.superRefine(refineServer);

const mcpAuthSchema = emptyIsAbsent(
  z.strictObject({
    mode: emptyIsAbsent(z.enum(["none", "bearer", "keys", "basic"]).default("none")),
    clients: emptyIsAbsent(z.array(clientSchema).default([])),
    users: emptyIsAbsent(z.array(userSchema).default([])),
    // mcpstead ignored an empty bearer_token, so only a value is an error.
    bearer_token: emptyIsAbsent(forbidden(
      "mcp.auth.bearer_token is not allowed: set MCPSTEAD_BEARER_TOKEN in the environment instead",
    )),
  }).superRefine((auth, ctx) => {
    if (auth.mode === "keys" && auth.clients.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["clients"],
        message: "mode 'keys' needs at least one client",
      });
    }
    if (auth.mode === "basic" && auth.users.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["users"],
        message: "mode 'basic' needs at least one user",
      });
    }
    const names = [...auth.clients, ...auth.users].map((c) => c.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["mode"],
        message: `client name ${quote(duplicate)} is used twice`,
      });
    }
  }).transform(({ mode, clients, users }) => ({ mode, clients, users })).prefault({}),
);

/** The `mcp` section: downstream auth, sessions and request limits. */
export const mcpSchema = section({
  auth: mcpAuthSchema,
  session: section({
    idle_ttl_seconds: seconds(3600, 1),
    unused_ttl_seconds: seconds(60, 1),
    gc_interval_seconds: seconds(60, 1),
    shutdown_grace_seconds: seconds(5, 1),
  }),
  max_body_bytes: emptyIsAbsent(z.int().min(1024).default(4_194_304)),
  page_size: emptyIsAbsent(z.int().min(1).max(10_000).default(500)),
  allowed_origins: emptyIsAbsent(z.array(originSchema).default([])),
  allowed_hosts: emptyIsAbsent(z.array(hostSchema).default([])),
  allow_unauthenticated_remote: flag(false),
  rate_limit: rateLimitSchema,
  limits: limitsSchema,
  tools_mode: emptyIsAbsent(z.enum(["direct", "meta", "both"]).default("direct")),
  pinned: emptyIsAbsent(z.array(z.string().min(1)).default([])),
});

/**
 * `cluster`: several replicas sharing sessions, streams, limits and per-session instances through
 * Redis (or Valkey). Absent: one process with everything in memory.
 */
export const clusterSchema = emptyIsAbsent(
  z.strictObject({
    // Checked once `${VAR}`s are expanded (env.ts): the URL may hold a password.
    redis_url: z.string().min(1, { error: "cluster.redis_url cannot be empty" }),
    key_prefix: emptyIsAbsent(
      z.string().regex(/^[\x21-\x7e]{1,64}$/, {
        error: "key_prefix must be 1 to 64 printable characters without spaces",
      }).default("mcpstead:"),
    ),
    // Every replica's /health lists it, so it may hold no credentials.
    advertise_url: emptyIsAbsent(
      httpUrl("advertise_url").refine(isPlainUrl, {
        error: (issue) =>
          `advertise_url ${
            quote(redactUrl(String(issue.input)))
          } must have no user name, password, query or fragment (/health shows it to anyone)`,
      }).optional(),
    ),
  }).optional(),
);

/**
 * The whole config file, with every default. Environment variables are read afterwards (see
 * `validateConfig`), so the schema stays pure.
 *
 * @example An empty file is the all-defaults config
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { configSchema } from "./schema.ts";
 *
 * const config = configSchema.parse({});
 * equal(config.port, 8766);
 * equal(config.mcp.auth.mode, "none");
 * ```
 */
export const configSchema = z.strictObject({
  host: emptyIsAbsent(hostSchema.default("127.0.0.1")),
  port: emptyIsAbsent(z.int().min(0).max(65_535).default(8766)),
  mcp: mcpSchema,
  namespacing: emptyIsAbsent(z.enum(["always", "never"]).default("always")),
  servers: emptyIsAbsent(z.array(serverSchema).default([])),
  metrics: section({ enabled: flag(true) }),
  cluster: clusterSchema,
  logging: section({
    level: emptyIsAbsent(logLevelInput.default("info")),
    format: emptyIsAbsent(z.enum(["auto", "json", "pretty"]).default("auto")),
  }),
}).superRefine((config, ctx) => {
  // Runs even when a server entry is invalid, so `mcpstead check` reports duplicates too.
  const servers: unknown = config.servers;
  if (!Array.isArray(servers)) return;
  const seen = new Set<string>();
  const prefixes = new Map<string, string>();
  servers.forEach((server: unknown, index) => {
    const name = isRecord(server) ? server.name : undefined;
    if (typeof name !== "string") return;
    const issue = (message: string) =>
      ctx.addIssue({ code: "custom", path: ["servers", index, "name"], message });
    if (seen.has(name)) issue(`duplicate server name ${quote(name)}`);
    seen.add(name);
    const prefix = toolPrefix(name);
    const other = prefixes.get(prefix);
    if (other !== undefined && other !== name) {
      issue(
        `server names ${quote(other)} and ${quote(name)} both name their tools ` +
          `'${prefix}__<tool>', so a scope cannot tell them apart: rename one`,
      );
    }
    prefixes.set(prefix, other ?? name);
  });
}, { when: (payload) => isRecord(payload.value) });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type ParsedUpstreamAuth = { type: "none" } | { type: "bearer"; token_env: string };

/** A log level: what `logging.level` resolves to. */
export type LogLevel = z.infer<typeof logLevelSchema>;

/** The config as the schema parses it, before environment variables are read. */
export type ParsedConfig = z.infer<typeof configSchema>;

/** One server entry as the schema parses it, before environment variables are read. */
export type ParsedServer = z.infer<typeof serverSchema>;

/** How the gateway authenticates to one upstream; `token` is read from `token_env`. */
export type UpstreamAuth = { type: "none" } | { type: "bearer"; token_env: string; token: string };

/** How clients authenticate to the gateway; `token` is read from MCPSTEAD_BEARER_TOKEN. */
export type DownstreamAuth =
  | { mode: "none" }
  | { mode: "bearer"; token: string }
  | { mode: "keys"; clients: Array<ClientIdentity & { keySha256: string }> }
  | { mode: "basic"; users: Array<ClientIdentity & { passwordSha256: string }> };

/** Globs of what a client may see and use; deny wins over allow. */
export interface Scope {
  allow: string[];
  deny: string[];
}

/** A named downstream client, its scopes, and whether it may reload the config. */
export interface ClientIdentity {
  name: string;
  admin: boolean;
  tools: Scope;
  prompts: Scope;
  resources: Scope;
}

/** One upstream server, ready to use: headers expanded and auth token read. */
export interface ServerConfig extends Omit<ParsedServer, "auth"> {
  /** Upstream auth with its token resolved. */
  auth: UpstreamAuth;
}

/** The `mcp` section, ready to use: the downstream token read. */
export interface McpConfig extends Omit<ParsedConfig["mcp"], "auth"> {
  /** Downstream auth with its token resolved. */
  auth: DownstreamAuth;
}

/** The loaded config: schema defaults applied, `${VAR}`s expanded and tokens read. */
export interface Config extends Omit<ParsedConfig, "mcp" | "servers"> {
  /** Downstream settings. */
  mcp: McpConfig;
  /** Upstream servers, in file order. */
  servers: ServerConfig[];
  /**
   * The environment variables the config reads secrets from (tokens, keys, `${VAR}`s) and
   * MCPSTEAD_BEARER_TOKEN: withheld from stdio children that inherit the environment.
   */
  secret_env: string[];
}
