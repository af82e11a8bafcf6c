/**
 * The methods that run something upstream by name: `tools/call` (with its outcome recorded for
 * metrics), `prompts/get` and `completion/complete`. Names are mapped to the upstream's own on
 * the way in, URIs in what comes back to the exposed form (result_uris.ts).
 */
import { GatewayError, invalidParams, McpError } from "../mcp/errors.ts";
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import type { CallContext, MethodHandler, UpstreamDirectory } from "./context.ts";
import { forward } from "./forward.ts";
import { exposePromptResult, exposeToolResult } from "./result_uris.ts";
import type { Routes } from "./routes.ts";
import { scopeOf } from "./scopes.ts";

/** Receives every routed tool call: its outcome (`ok` or a failure reason) and duration. */
export type ToolCallObserver = (
  server: string,
  tool: string,
  outcome: string,
  seconds: number,
) => void;

/** Routes a tool call to its upstream, recording its outcome. */
export async function callTool(
  upstreams: UpstreamDirectory,
  routes: Routes,
  name: string,
  params: JsonObject,
  context: CallContext,
  observe?: ToolCallObserver,
): Promise<JsonObject> {
  const route = routes.allowed("tools", name, context.identity);
  if (!route) {
    observe?.("unknown", "unknown", "unknown_tool", 0);
    throw invalidParams(`Unknown tool: '${name}'`);
  }
  const started = performance.now();
  const done = (outcome: string) =>
    observe?.(route.server, name, outcome, (performance.now() - started) / 1000);
  const info = routes.catalog.toolInfo(name);
  const annotations = info?.annotations;
  try {
    const result = await forward(
      upstreams,
      route,
      "tools/call",
      { ...params, name: route.name },
      context,
      {
        idempotent: isJsonObject(annotations) && annotations.idempotentHint === true,
        toolSchema: info?.inputSchema,
      },
    );
    done(result.isError === true ? "upstream_returned_error" : "ok");
    return exposeToolResult(
      result,
      routes.catalog,
      route.server,
      scopeOf(context.identity)?.resources,
    );
  } catch (error) {
    done(
      error instanceof GatewayError
        ? error.code
        : error instanceof McpError
        ? "upstream_error"
        : "internal",
    );
    throw error;
  }
}

/** `tools/call`, `prompts/get` and `completion/complete` over `routes`. */
export function callMethods(
  upstreams: UpstreamDirectory,
  routes: Routes,
  observe?: ToolCallObserver,
): Record<string, MethodHandler> {
  return {
    "tools/call": (params, context) => {
      const name = params?.name;
      if (typeof name !== "string") throw invalidParams("tools/call needs params.name (a string)");
      return callTool(upstreams, routes, name, params!, context, observe);
    },
    "prompts/get": async (params, context) => {
      const name = params?.name;
      if (typeof name !== "string") throw invalidParams("prompts/get needs params.name (a string)");
      const route = routes.allowed("prompts", name, context.identity);
      if (!route) throw invalidParams(`Unknown prompt: '${name}'`);
      const result = await forward(
        upstreams,
        route,
        "prompts/get",
        { ...params, name: route.name },
        context,
      );
      return exposePromptResult(
        result,
        routes.catalog,
        route.server,
        scopeOf(context.identity)?.resources,
      );
    },
    "completion/complete": (params, context) => {
      const ref = params?.ref;
      if (!isJsonObject(ref)) throw invalidParams("completion/complete needs params.ref");
      if (ref.type === "ref/prompt" && typeof ref.name === "string") {
        const route = routes.allowed("prompts", ref.name, context.identity);
        if (!route) throw invalidParams(`Unknown prompt: '${ref.name}'`);
        return forward(upstreams, route, "completion/complete", {
          ...params,
          ref: { ...ref, name: route.name },
        }, context);
      }
      if (ref.type === "ref/resource" && typeof ref.uri === "string") {
        const { route } = routes.resource(ref.uri, context.identity);
        return forward(upstreams, route, "completion/complete", {
          ...params,
          ref: { ...ref, uri: route.name },
        }, context);
      }
      throw invalidParams(
        "params.ref must be a ref/prompt with a name or a ref/resource with a uri",
      );
    },
  };
}
