/** Downstream bearer-token authentication with a constant-time comparison. */
import { createHash, timingSafeEqual } from "node:crypto";

/** Why a request was refused, as a bounded metrics label. */
export type AuthFailure = "missing_header" | "bad_format" | "wrong_token";

/** The outcome of checking one request. */
export type AuthResult = { ok: true } | { ok: false; reason: AuthFailure };

/** Checks `Authorization: Bearer <token>` against one secret. */
export type Authenticator = (req: Request) => AuthResult;

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Builds a checker for one token. Both sides are hashed to fixed-length digests and compared
 * with `timingSafeEqual`, so neither the token's length nor its content leaks through timing.
 */
export function bearerAuthenticator(token: string): Authenticator {
  const expected = digest(token);
  return (req) => {
    const header = req.headers.get("authorization");
    if (header === null || header.trim() === "") return { ok: false, reason: "missing_header" };
    const match = /^Bearer +(\S+)\s*$/i.exec(header.trim());
    if (!match) return { ok: false, reason: "bad_format" };
    return timingSafeEqual(digest(match[1]!), expected)
      ? { ok: true }
      : { ok: false, reason: "wrong_token" };
  };
}

/** The 401 answer: an empty body and a `WWW-Authenticate: Bearer` challenge. */
export function unauthorized(): Response {
  return new Response(null, { status: 401, headers: { "www-authenticate": "Bearer" } });
}
