/**
 * CORS for browser clients from `mcp.allowed_origins`: preflight answers and the response
 * headers a page needs to read the session id. Without configured origins there is no CORS, and
 * the Origin guard (origin.ts) refuses foreign pages. The origins are read per request, so a
 * reload applies at once.
 */
import type { Handler } from "./router.ts";

const ALLOW_HEADERS =
  "content-type, authorization, mcp-session-id, mcp-protocol-version, last-event-id, accept";

/** Wraps `/mcp` handlers so allowed origins get CORS headers, and adds the OPTIONS (preflight) handler. */
export function withCors(
  allowedOrigins: () => readonly string[],
  handlers: Record<string, Handler>,
): Record<string, Handler> {
  const methods = Object.keys(handlers).join(", ");
  const originOf = (req: Request) => {
    const origin = req.headers.get("origin");
    if (origin === null) return undefined;
    return allowedOrigins().some((o) => o.toLowerCase() === origin.toLowerCase())
      ? origin
      : undefined;
  };
  const wrapped: Record<string, Handler> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    wrapped[method] = (req, info) => {
      const origin = originOf(req);
      // Clients that are not pages send no Origin: their answers pass as they are.
      return origin ? withCorsHeaders(handler(req, info), origin) : handler(req, info);
    };
  }
  wrapped.OPTIONS = (req) => {
    if (allowedOrigins().length === 0) {
      return new Response(null, { status: 405, headers: { allow: methods } });
    }
    const origin = originOf(req);
    if (!origin) return new Response(null, { status: 403, headers: { vary: "Origin" } });
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": methods,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "600",
        vary: "Origin",
      },
    });
  };
  return wrapped;
}

/** The answer with the CORS headers of an allowed page origin. */
async function withCorsHeaders(
  answer: Response | Promise<Response>,
  origin: string,
): Promise<Response> {
  const res = await answer;
  const headers = new Headers(res.headers);
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-expose-headers", "mcp-session-id, www-authenticate, retry-after");
  headers.append("vary", "Origin");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
