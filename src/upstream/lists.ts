/** Reading what an upstream offers: its tools, prompts, resources and resource templates. */
import { GatewayError, McpError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import type { Logger } from "../log.ts";
import type { UpstreamClient } from "./supervisor.ts";

/** The caching hint a 2026-07-28 upstream gave one list: the soonest expiry of its pages, and whether any is private. */
export interface ListHint {
  ttlMs: number;
  private: boolean;
}

/** The lists an upstream gives, as caching hints name them. */
export type ListKind = "tools" | "prompts" | "resources" | "templates";

/** An upstream's caching hints, per list. */
export type ListHints = Partial<Record<ListKind, ListHint>>;

/** What one upstream lists. */
export interface UpstreamLists {
  tools: JsonObject[];
  prompts: JsonObject[];
  resources: JsonObject[];
  templates: JsonObject[];
  /** Present when the upstream gave caching hints (spec 2026-07-28: utilities/caching). */
  hints?: ListHints;
}

/** The lists of an upstream that never connected. */
export const EMPTY_LISTS: UpstreamLists = { tools: [], prompts: [], resources: [], templates: [] };

/** How the lists are read. */
export interface ListOptions {
  server: string;
  timeoutMs: number;
  log: Logger;
  signal: AbortSignal;
}

const MAX_PAGES = 100;

/** Reads every list the upstream declared a capability for, each with all its pages. */
export async function listAll(
  client: UpstreamClient,
  capabilities: JsonObject,
  options: ListOptions,
): Promise<UpstreamLists> {
  const hints: ListHints = {};
  const list = (method: string, key: string, id: string, kind: ListKind) =>
    listPages(client, method, key, id, options, (hint) => {
      const known = hints[kind];
      hints[kind] = known === undefined ? hint : {
        ttlMs: Math.min(known.ttlMs, hint.ttlMs),
        private: known.private || hint.private,
      };
    });
  const resources = capabilities.resources !== undefined;
  const lists: UpstreamLists = {
    tools: capabilities.tools === undefined
      ? []
      : await list("tools/list", "tools", "name", "tools"),
    prompts: capabilities.prompts === undefined
      ? []
      : await list("prompts/list", "prompts", "name", "prompts"),
    resources: resources ? await list("resources/list", "resources", "uri", "resources") : [],
    templates: resources
      ? await list("resources/templates/list", "resourceTemplates", "uriTemplate", "templates")
      : [],
  };
  if (Object.keys(hints).length > 0) lists.hints = hints;
  return lists;
}

/** Reads every page of one list; items without their identifying string are skipped. */
async function listPages(
  client: UpstreamClient,
  method: string,
  key: string,
  id: string,
  { server, timeoutMs, log, signal }: ListOptions,
  hinted: (hint: ListHint) => void,
): Promise<JsonObject[]> {
  const items: JsonObject[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let result: JsonObject;
    try {
      result = await client.request(method, cursor === undefined ? undefined : { cursor }, {
        timeoutMs,
        signal,
      });
    } catch (error) {
      // A server may declare resources without templates: an unknown method is an empty list.
      if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return items;
      throw error;
    }
    if (typeof result.ttlMs === "number" && result.ttlMs >= 0) {
      hinted({ ttlMs: result.ttlMs, private: result.cacheScope === "private" });
    }
    const list = result[key];
    if (!Array.isArray(list)) {
      throw new GatewayError(
        "upstream_protocol_error",
        server,
        `Upstream '${server}' answered ${method} without a ${key} array`,
      );
    }
    for (const item of list) {
      if (isJsonObject(item) && typeof item[id] === "string") items.push(item);
      else log.warn(`upstream listed an item without a ${id}; skipped`, { method });
    }
    if (typeof result.nextCursor !== "string" || result.nextCursor === "") break;
    cursor = result.nextCursor;
  }
  return items;
}
