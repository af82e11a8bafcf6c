/**
 * One request to the upstream that owns a route, with what the upstream says meanwhile relayed
 * to the caller: notifications on the caller's stream (log messages only at the level it asked
 * for), server→client requests to the caller. The gateway owns the reserved `_meta` keys on
 * every hop, so a client's are dropped here (a modern upstream gets the gateway's envelope from
 * its client instead), and a modern upstream's `input_required` is fulfilled for a legacy caller.
 */
import { invalidParams } from "../mcp/errors.ts";
import { isModernVersion, withoutReservedMeta } from "../mcp/era.ts";
import type { JsonObject, JsonRpcNotification } from "../mcp/jsonrpc.ts";
import { logLevelAllows } from "../mcp/log_levels.ts";
import type { Route } from "../upstream/catalog.ts";
import type { UpstreamRequestOptions } from "../upstream/supervisor.ts";
import type { CallContext, UpstreamDirectory } from "./context.ts";
import { fulfilForLegacy } from "./input_fulfil.ts";

/** What a forwarded request may add. */
export interface ForwardExtra {
  /** The tool is annotated `idempotentHint: true`, so a failed call may be sent again. */
  idempotent?: boolean;
  /** The tool's input schema (a modern upstream gets its `x-mcp-header` params as headers). */
  toolSchema?: unknown;
}

/** Sends a request to the upstream of `route` on behalf of the caller of `context`. */
export async function forward(
  upstreams: UpstreamDirectory,
  route: Route,
  method: string,
  params: JsonObject,
  context: CallContext,
  extra: ForwardExtra = {},
): Promise<JsonObject> {
  const supervisor = upstreams.supervisor(route.server);
  if (!supervisor) throw invalidParams(`Unknown server: '${route.server}'`);
  const sent = withoutReservedMeta(params);
  const options = requestOptions(context, extra);
  const result = await supervisor.request(method, sent, options);
  if (isModernVersion(context.protocolVersion)) return result;
  if (result.resultType === undefined) return withoutReservedMeta(result);
  return await fulfilForLegacy(
    result,
    (more) => supervisor.request(method, { ...sent, ...more }, options),
    context.ask,
    context.signal,
  );
}

function requestOptions(context: CallContext, extra: ForwardExtra): UpstreamRequestOptions {
  return {
    signal: context.signal,
    session: { id: context.sessionId, capabilities: context.clientCapabilities },
    owner: context.sessionId,
    idempotent: extra.idempotent ?? false,
    clientCapabilities: context.clientCapabilities,
    logLevel: context.state.logLevel,
    ...(extra.toolSchema === undefined ? {} : { toolSchema: extra.toolSchema }),
    onNotification: (notification) => {
      if (
        notification.method === "notifications/message" &&
        !logLevelAllows(context.state.logLevel, notification.params?.level)
      ) return;
      context.notify(ownedNotification(notification));
    },
    onRequest: (request, signal) =>
      context.ask(
        request.params === undefined
          ? { method: request.method }
          : { method: request.method, params: request.params },
        signal,
      ),
  };
}

/** A notification from an upstream without its reserved `_meta` keys (the same one when it has none). */
export function ownedNotification(notification: JsonRpcNotification): JsonRpcNotification {
  const params = notification.params;
  if (params === undefined) return notification;
  const kept = withoutReservedMeta(params);
  return kept === params ? notification : { ...notification, params: kept };
}
