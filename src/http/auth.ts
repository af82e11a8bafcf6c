/**
 * Downstream authentication: one bearer token, API keys per client, or HTTP Basic users. Every
 * secret is compared as a fixed-length SHA-256 digest with `timingSafeEqual`, so neither its
 * length nor its content leaks through timing; a request is checked against every key.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** Why a request was refused, as a bounded metrics label. */
export type AuthFailure = "missing_header" | "bad_format" | "wrong_token";

/** Globs of what a client may see and use. */
export interface ScopeGlobs {
  allow: readonly string[];
  deny: readonly string[];
}

/** Who made a request, and what they may use (no scopes: everything). */
export interface Identity {
  name: string;
  /** May reload the config (`admin: true` on a client or user). */
  admin?: boolean;
  scopes?: { tools: ScopeGlobs; prompts: ScopeGlobs; resources: ScopeGlobs };
}

/** The outcome of checking one request. */
export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: AuthFailure };

/** Checks one request's credentials. */
export interface Authenticator {
  (req: Request): AuthResult;
  /** The auth scheme named in the 401 challenge. */
  readonly scheme: "Bearer" | "Basic";
}

const digest = (text: string) => createHash("sha256").update(text).digest();
const fromHex = (hex: string) => Buffer.from(hex, "hex");

function authenticator(
  scheme: "Bearer" | "Basic",
  check: (credentials: string) => AuthResult,
): Authenticator {
  const pattern = new RegExp(`^${scheme} +(\\S+)\\s*$`, "i");
  return Object.assign((req: Request): AuthResult => {
    const header = req.headers.get("authorization");
    if (header === null || header.trim() === "") return { ok: false, reason: "missing_header" };
    const match = pattern.exec(header.trim());
    return match ? check(match[1]!) : { ok: false, reason: "bad_format" };
  }, { scheme });
}

/** One shared token (`mcp.auth.mode: bearer`, MCPSTEAD_BEARER_TOKEN); the identity is `bearer`. */
export function bearerAuthenticator(token: string): Authenticator {
  const expected = digest(token);
  return authenticator(
    "Bearer",
    (candidate) =>
      timingSafeEqual(digest(candidate), expected)
        ? { ok: true, identity: { name: "bearer" } }
        : { ok: false, reason: "wrong_token" },
  );
}

/** API keys (`mcp.auth.mode: keys`), each known only by its SHA-256 and naming one client. */
export function keysAuthenticator(
  clients: ReadonlyArray<Identity & { keySha256: string }>,
): Authenticator {
  const known = clients.map((client) => ({ client, digest: fromHex(client.keySha256) }));
  return authenticator("Bearer", (candidate) => {
    const presented = digest(candidate);
    let found: Identity | undefined;
    for (const { client, digest: expected } of known) {
      if (timingSafeEqual(presented, expected) && found === undefined) found = client;
    }
    return found ? { ok: true, identity: found } : { ok: false, reason: "wrong_token" };
  });
}

/** HTTP Basic users (`mcp.auth.mode: basic`), with SHA-256 password hashes. */
export function basicAuthenticator(
  users: ReadonlyArray<Identity & { passwordSha256: string }>,
): Authenticator {
  const byName = new Map(
    users.map((user) => [user.name, { user, digest: fromHex(user.passwordSha256) }]),
  );
  const decoy = digest("mcpstead: no such user");
  return authenticator("Basic", (encoded) => {
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)),
      );
    } catch {
      return { ok: false, reason: "bad_format" };
    }
    const colon = decoded.indexOf(":");
    if (colon === -1) return { ok: false, reason: "bad_format" };
    const entry = byName.get(decoded.slice(0, colon));
    const matches = timingSafeEqual(digest(decoded.slice(colon + 1)), entry?.digest ?? decoy);
    return entry && matches
      ? { ok: true, identity: entry.user }
      : { ok: false, reason: "wrong_token" };
  });
}

/** The 401 answer: an empty body and the scheme's challenge. */
export function unauthorized(scheme: "Bearer" | "Basic" = "Bearer"): Response {
  return new Response(null, {
    status: 401,
    headers: {
      "www-authenticate": scheme === "Basic" ? 'Basic realm="mcpstead", charset="UTF-8"' : "Bearer",
    },
  });
}
