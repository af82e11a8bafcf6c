/**
 * Config of downstream identities (API keys, HTTP Basic users) with scopes, rate limits, input
 * limits, and per-upstream retries, circuit breaker, concurrency and tool filters. Secrets are
 * never written in the file: keys come from the environment or as SHA-256 hashes.
 */
import { z } from "zod";
import { isEnvName } from "./env.ts";
import { count, emptyIsAbsent, flag, forbidden, millis, seconds, section } from "./fields.ts";
import { quote } from "./format.ts";

const globs = (fallback: string[]) => emptyIsAbsent(z.array(z.string().min(1)).default(fallback));

/** Which names (or URIs) a client may see and use: globs with `*` and `?`; deny wins. */
export const scopeSchema = section({ allow: globs(["*"]), deny: globs([]) });

const scopes = { tools: scopeSchema, prompts: scopeSchema, resources: scopeSchema };

const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest: 64 hex digits")
  .transform((hex) => hex.toLowerCase());

const envName = z.string().refine(isEnvName, {
  error: "must name an environment variable (letters, digits and '_'), not hold the key itself",
});

/** Token bucket settings; 0 requests per second turns the limit off. */
export const rateLimitSchema = section({
  requests_per_second: emptyIsAbsent(z.number().min(0).default(0)),
  burst: count(0),
});

/** One API-key client of `mcp.auth.mode: keys`. */
export const clientSchema = z.strictObject({
  name: z.string().min(1),
  key_env: emptyIsAbsent(envName.optional()),
  key_sha256: emptyIsAbsent(sha256.optional()),
  key: forbidden(
    "a plaintext key is not allowed in the file: name an environment variable in key_env, or give key_sha256",
  ),
  admin: flag(false),
  ...scopes,
}).superRefine((client, ctx) => {
  if ((client.key_env === undefined) === (client.key_sha256 === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `client ${quote(client.name)} needs exactly one of key_env and key_sha256`,
    });
  }
});

/** One HTTP Basic user of `mcp.auth.mode: basic`. */
export const userSchema = z.strictObject({
  name: z.string().min(1).refine((n) => !n.includes(":"), {
    error: "a user name cannot contain ':'",
  }),
  password_sha256: sha256,
  password: forbidden(
    "a plaintext password is not allowed in the file: give password_sha256 (sha256sum of the password)",
  ),
  admin: flag(false),
  ...scopes,
});

/** Limits on what clients may send. */
export const limitsSchema = section({
  max_json_depth: emptyIsAbsent(z.int().min(2).max(1000).default(64)),
  max_json_values: emptyIsAbsent(z.int().min(100).default(100_000)),
  max_batch: emptyIsAbsent(z.int().min(1).max(10_000).default(100)),
  max_header_bytes: emptyIsAbsent(z.int().min(1024).max(1_048_576).default(16_384)),
  /** A connection must send a whole request head within this long. */
  header_timeout_seconds: seconds(30, 1),
  /** A kept-alive connection with no request in progress is closed after this long. */
  idle_timeout_seconds: seconds(60, 1),
  /** Open downstream connections; more are answered 503 and closed. */
  max_connections: emptyIsAbsent(z.int().min(1).max(1_000_000).default(1024)),
  max_sessions_per_client: count(100),
  max_sessions: emptyIsAbsent(z.int().min(1).default(10_000)),
  max_initialize_bytes: emptyIsAbsent(z.int().min(1024).default(65_536)),
  body_timeout_seconds: seconds(30, 1),
  stream_buffer_bytes: emptyIsAbsent(z.int().min(4096).default(1_048_576)),
});

/** Retries of requests that are safe to repeat. */
export const retrySchema = section({
  attempts: count(2),
  backoff_base_ms: millis(100),
  backoff_max_ms: millis(2000),
  /** Tools (upstream names, globs) the operator declares safe to retry, besides `idempotentHint: true`. */
  tools: globs([]),
  /** Retries allowed per request made, over time (0.1 = at most one retry per ten requests). */
  budget: emptyIsAbsent(z.number().min(0).max(1).default(0.1)),
});

/** The circuit breaker; 0 failures turns it off. */
export const breakerSchema = section({
  failures: count(5),
  window_seconds: seconds(30, 1),
  open_seconds: seconds(30, 1),
});

const overrideSchema = z.strictObject({
  name: emptyIsAbsent(z.string().min(1).optional()),
  description: emptyIsAbsent(z.string().optional()),
  annotations: emptyIsAbsent(z.record(z.string(), z.unknown()).optional()),
});

/** `servers[].tools`: refresh interval, include/exclude globs over upstream names, overrides. */
export const toolsSchema = section({
  ttl_seconds: seconds(300, 0),
  include: globs(["*"]),
  exclude: globs([]),
  overrides: emptyIsAbsent(z.record(z.string(), overrideSchema).default({})),
});
