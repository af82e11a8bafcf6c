/**
 * `resources/read` and the subscriptions of a caller (a 2025 session, or a 2026-07-28 listen
 * stream): a shared upstream is subscribed once, when the first caller subscribes, and
 * unsubscribed when the last one leaves (subscriptions.ts); a 2026-07-28 upstream gets the URI
 * in its listen stream's filter instead (the supervisor does that).
 */
import { invalidParams } from "../mcp/errors.ts";
import type { MethodHandler, UpstreamDirectory } from "./context.ts";
import { forward } from "./forward.ts";
import { exposeReadResult } from "./result_uris.ts";
import type { Routes } from "./routes.ts";
import { scopeOf } from "./scopes.ts";
import type { Subscriptions } from "./subscriptions.ts";

/**
 * Resources one caller (a session or a listen stream) may be subscribed to at once: each is kept
 * in memory (and in a cluster's session record) and may be a subscription upstream.
 */
export const MAX_SUBSCRIPTIONS = 1000;

/** `resources/read`, `resources/subscribe` and `resources/unsubscribe` over `routes`. */
export function resourceMethods(
  upstreams: UpstreamDirectory,
  routes: Routes,
  subscriptions: Subscriptions,
): Record<string, MethodHandler> {
  const perSession = (server: string) => upstreams.supervisor(server)?.perSession ?? false;
  return {
    "resources/read": async (params, context) => {
      const { route } = routes.resource(params?.uri, context.identity);
      const result = await forward(upstreams, route, "resources/read", {
        ...params,
        uri: route.name,
      }, context);
      return exposeReadResult(
        result,
        routes.catalog,
        route.server,
        scopeOf(context.identity)?.resources,
      );
    },
    "resources/subscribe": async (params, context) => {
      const { route, exposed } = routes.resource(params?.uri, context.identity);
      if (context.state.subscriptions.has(exposed)) return {};
      if (context.state.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw invalidParams(
          `Invalid params: this client holds ${MAX_SUBSCRIPTIONS} resource subscriptions, the ` +
            "most it may; unsubscribe from one first",
        );
      }
      if (subscriptions.add(route, context.sessionId, perSession(route.server))) {
        await forward(
          upstreams,
          route,
          "resources/subscribe",
          { ...params, uri: route.name },
          context,
        );
      }
      context.state.subscriptions.add(exposed);
      return {};
    },
    "resources/unsubscribe": async (params, context) => {
      const { route, exposed } = routes.resource(params?.uri, context.identity);
      if (!context.state.subscriptions.delete(exposed)) return {};
      if (subscriptions.remove(route, context.sessionId, perSession(route.server))) {
        await forward(
          upstreams,
          route,
          "resources/unsubscribe",
          { ...params, uri: route.name },
          context,
        );
      }
      return {};
    },
  };
}
