/**
 * A small router that tells 404 from 405 and answers `Allow`. Paths match exactly, except keys
 * ending in `/*`, which match every path under them (the longest such prefix wins).
 */
import { IncomingRequest } from "./incoming_request.ts";

/** Per-connection facts a handler may need. */
export interface RequestInfo {
  /** The peer address, when known. */
  remoteAddr?: string | undefined;
}

/** An HTTP entry point. */
export type Handler = (req: Request, info: RequestInfo) => Response | Promise<Response>;

/** Routes: path → method → handler. */
export type Routes = Record<string, Partial<Record<string, Handler>>>;

/** Builds a handler from a path table; GET routes also answer HEAD. */
export function createRouter(routes: Routes): Handler {
  const table = new Map<string, Map<string, Handler>>();
  const prefixes: Array<[string, Map<string, Handler>]> = [];
  for (const [path, methods] of Object.entries(routes)) {
    const byMethod = new Map<string, Handler>();
    for (const [method, handler] of Object.entries(methods)) {
      if (handler) byMethod.set(method, handler);
    }
    const get = byMethod.get("GET");
    if (get && !byMethod.has("HEAD")) byMethod.set("HEAD", headOf(get));
    if (path.endsWith("/*")) prefixes.push([path.slice(0, -1), byMethod]);
    else table.set(path, byMethod);
  }
  prefixes.sort(([a], [b]) => b.length - a.length);
  return (req, info) => {
    const path = pathOf(req);
    const byMethod = table.get(path) ??
      prefixes.find(([prefix]) => path.startsWith(prefix))?.[1];
    if (!byMethod) return plain(404, "Not Found");
    const handler = byMethod.get(req.method);
    if (handler) return handler(req, info);
    return new Response("Method Not Allowed\n", {
      status: 405,
      headers: { allow: [...byMethod.keys()].join(", "), "content-type": "text/plain" },
    });
  };
}

/** The path of a request's URL (the server's own requests carry it apart). */
function pathOf(req: Request): string {
  if (req instanceof IncomingRequest) {
    const target = req.target;
    const query = target.indexOf("?");
    return query === -1 ? target : target.slice(0, query);
  }
  const url = req.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const queryStart = url.indexOf("?", pathStart);
  return pathStart === -1 ? "/" : url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
}

function headOf(get: Handler): Handler {
  return async (req, info) => {
    const res = await get(req, info);
    await res.body?.cancel();
    return new Response(null, { status: res.status, headers: res.headers });
  };
}

/** A plain-text response. */
export function plain(status: number, text: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  return new Response(`${text}\n`, { status, headers: h });
}

/** A JSON response from a value. */
export function json(status: number, value: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(value), { status, headers: h });
}
