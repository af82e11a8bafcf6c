/**
 * The gateway's HTTP routes: `/mcp`, the REST facade and its OpenAPI document, `/health`,
 * `/metrics`, the dashboard and `POST /-/reload`. Every route passes the Host/Origin guard;
 * each reads the current front, so a reload applies at once.
 */
import { ConfigError } from "./config/mod.ts";
import { refuseJson } from "./downstream/rest.ts";
import type { Front } from "./front.ts";
import { refuseGuarded } from "./http/admission.ts";
import { type Identity, unauthorized } from "./http/auth.ts";
import { withCors } from "./http/cors.ts";
import { DASHBOARD_HTML } from "./http/dashboard.ts";
import { createReloadRoute } from "./http/reload_route.ts";
import { createRouter, type Handler, json, plain } from "./http/router.ts";
import { describeError } from "./log.ts";
import type { JsonObject } from "./mcp/jsonrpc.ts";

/** What the routes read, each time a request comes. */
export interface RouteSources {
  front(): Front;
  allowedOrigins(): readonly string[];
  /** Whether the bearer token is the admin credential (`mcp.auth.mode: bearer`). */
  bearerIsAdmin(): boolean;
  health(): unknown;
  /** The Prometheus text, or undefined when `metrics.enabled` is false. */
  metrics(): { text: string; contentType: string } | undefined;
  openApi(identity: Identity | undefined): JsonObject;
  reload(): Promise<unknown>;
}

/** Builds the router of every route. */
export function createHttpRoutes(sources: RouteSources): Handler {
  /** Runs `handler` only for requests that pass the Host/Origin guard. */
  const guarded = (handler: Handler): Handler => (req, info) => {
    const refusal = sources.front().guard(req);
    return refusal ? refuseGuarded(refusal, refuseJson) : handler(req, info);
  };
  /** CORS for allowed origins; its preflight answers are guarded like the rest. */
  const cors = (handlers: Record<string, Handler>) => {
    const routes = withCors(() => sources.allowedOrigins(), handlers);
    return { ...routes, OPTIONS: guarded(routes.OPTIONS!) };
  };
  return createRouter({
    "/mcp": cors({
      POST: (req, info) => sources.front().endpoint.post(req, info),
      GET: (req, info) => sources.front().endpoint.get(req, info),
      DELETE: (req, info) => sources.front().endpoint.delete(req, info),
    }),
    "/api/*": cors({
      POST: (req, info) => sources.front().rest.call(req, info),
    }),
    "/openapi.json": cors({
      GET: (req) => {
        const admitted = sources.front().rest.admit(req);
        if (admitted instanceof Response) return admitted;
        return json(200, sources.openApi(admitted.identity));
      },
    }),
    "/health": { GET: guarded(() => json(200, sources.health())) },
    "/metrics": {
      GET: guarded(() => {
        const metrics = sources.metrics();
        return metrics
          ? new Response(metrics.text, { headers: { "content-type": metrics.contentType } })
          : plain(404, "metrics disabled");
      }),
    },
    "/ui": {
      GET: guarded(() =>
        new Response(DASHBOARD_HTML, {
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
        })
      ),
    },
    "/ui/tools": {
      GET: guarded((req) => {
        const front = sources.front();
        const auth = front.authenticate?.(req);
        if (auth && !auth.ok) return unauthorized(front.authenticate!.scheme);
        return json(200, {
          tools: front.dispatcher.tools(auth?.identity).map((t) => ({
            name: t.name,
            description: t.description ?? null,
          })),
        });
      }),
    },
    "/-/reload": {
      POST: createReloadRoute({
        admission: () => sources.front().admission,
        isAdmin: (identity) => sources.bearerIsAdmin() || identity.admin === true,
        reload: async () => {
          try {
            return json(200, await sources.reload());
          } catch (error) {
            return plain(400, error instanceof ConfigError ? error.message : describeError(error));
          }
        },
      }),
    },
  });
}
