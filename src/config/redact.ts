/**
 * Redaction of the secrets a config holds, for any text the gateway stores, logs or returns:
 * error messages of upstreams often quote the URL they failed on (Deno's fetch errors do), and
 * upstream URLs may carry credentials in their user information or query.
 */
import { redactUrl } from "./net.ts";
import type { Config } from "./schema.ts";

/** Returns `text` with every secret it may hold replaced by `***`. */
export type Redact = (text: string) => string;

// A URL inside free text: a scheme, "//", then anything up to white space, a quote, a bracket
// or a parenthesis (Deno writes "error sending request for url (http://…): …").
const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'`<>()\\]+/g;

/**
 * Shorter values are only hidden where they appear inside a URL: a query value such as `json`
 * or `v2` is no secret, and replacing every occurrence of it would garble messages.
 */
const MIN_SECRET_LENGTH = 6;

/**
 * A redactor for `secrets`: every URL in a text gets its user information and query values
 * hidden ({@linkcode redactUrl}), and every secret of at least six characters is hidden wherever
 * it appears.
 */
export function createRedactor(secrets: Iterable<string>): Redact {
  const literal = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = literal.length === 0 ? undefined : new RegExp(literal.join("|"), "g");
  return (text) => {
    const urls = text.includes("://") ? text.replace(URL_IN_TEXT, redactUrl) : text;
    return pattern === undefined ? urls : urls.replace(pattern, "***");
  };
}

/**
 * The secrets of a loaded config: the user information and query values of every upstream URL
 * (`url`, an http(s) `openapi` document, `base_url`), each as written and percent-decoded, the
 * upstream tokens and header values, the downstream bearer token, and the password of
 * `cluster.redis_url`.
 */
export function configSecrets(config: Config): string[] {
  const secrets: string[] = [];
  if (config.mcp.auth.mode === "bearer") secrets.push(config.mcp.auth.token);
  const redis = config.cluster === undefined ? null : URL.parse(config.cluster.redis_url);
  if (redis !== null) {
    secrets.push(redis.password, safeDecode(redis.password));
    for (const value of redis.searchParams.values()) secrets.push(value);
  }
  for (const server of config.servers) {
    for (const text of [server.url, server.openapi, server.base_url]) {
      const url = text === undefined ? null : URL.parse(text);
      if (url === null) continue;
      secrets.push(url.username, url.password, safeDecode(url.username), safeDecode(url.password));
      for (const value of url.searchParams.values()) secrets.push(value, encodeURIComponent(value));
    }
    if (server.auth.type === "bearer") secrets.push(server.auth.token);
    secrets.push(...Object.values(server.headers));
  }
  return secrets;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
