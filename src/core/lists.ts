/**
 * The list methods: every item of the merged catalog the caller may see, in server order, one
 * page at a time with opaque cursors (spec: pagination).
 */
import { invalidParams } from "../mcp/errors.ts";
import type { JsonObject } from "../mcp/jsonrpc.ts";
import { InvalidCursorError, paginate } from "../upstream/catalog.ts";
import type { MethodHandler } from "./context.ts";
import type { Routes } from "./routes.ts";

/** One page of `items` under `key`, with the cursor of the next. */
export function listPage(
  key: string,
  items: readonly JsonObject[],
  params: JsonObject | undefined,
  pageSize: number,
): JsonObject {
  let page;
  try {
    page = paginate(items, params?.cursor, pageSize);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw invalidParams(error.message);
    throw error;
  }
  return page.nextCursor === undefined
    ? { [key]: page.items }
    : { [key]: page.items, nextCursor: page.nextCursor };
}

/** The list methods over `routes`. */
export function listMethods(routes: Routes, pageSize: number): Record<string, MethodHandler> {
  return {
    "tools/list": (params, context) =>
      listPage(
        "tools",
        routes.visible("tools", "name", routes.catalog.tools, context.identity),
        params,
        pageSize,
      ),
    "prompts/list": (params, context) => {
      routes.requireOffered("prompts", "prompts/list");
      return listPage(
        "prompts",
        routes.visible("prompts", "name", routes.catalog.prompts, context.identity),
        params,
        pageSize,
      );
    },
    "resources/list": (params, context) => {
      routes.requireOffered("resources", "resources/list");
      return listPage(
        "resources",
        routes.visible("resources", "uri", routes.catalog.resources, context.identity),
        params,
        pageSize,
      );
    },
    "resources/templates/list": (params, context) => {
      routes.requireOffered("resources", "resources/templates/list");
      return listPage(
        "resourceTemplates",
        routes.visible("resources", "uriTemplate", routes.catalog.templates, context.identity),
        params,
        pageSize,
      );
    },
  };
}
