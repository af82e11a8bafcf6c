/**
 * URIs in what upstreams return, as a client may use them: resource links and embedded
 * resources in tool results and prompt messages, and the contents of a read, carry the exposed
 * URI, so that a client can read them back through the gateway (DESIGN §3 Names). Those outside
 * the caller's resource scope are left out: an embedded resource carries the content itself.
 *
 * Only the top-level content blocks are looked at (where MCP puts resources), and a result
 * without resource blocks is returned as it is, without a copy.
 */
import { isJsonObject, type Json, type JsonObject } from "../mcp/jsonrpc.ts";
import type { Catalog } from "../upstream/catalog.ts";

/** Whether the caller may read an exposed URI; undefined when it may read everything. */
export type MayRead = ((exposed: string) => boolean) | undefined;

/** Exposes one list item's URI; undefined leaves the item out. */
type ItemMap = (item: Json, catalog: Catalog, server: string, mayRead: MayRead) => Json | undefined;

/** A `tools/call` result of `server` with its resource blocks exposed or left out. */
export function exposeToolResult(
  result: JsonObject,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): JsonObject {
  return exposeIn(result, "content", exposeBlock, catalog, server, mayRead);
}

/** A `prompts/get` result of `server`: a message whose resource the caller may not read is left out. */
export function exposePromptResult(
  result: JsonObject,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): JsonObject {
  return exposeIn(result, "messages", exposeMessage, catalog, server, mayRead);
}

/** A `resources/read` result of `server`: each content's URI exposed, unreadable ones left out. */
export function exposeReadResult(
  result: JsonObject,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): JsonObject {
  return exposeIn(result, "contents", exposeContents, catalog, server, mayRead);
}

/** `result` with the list under `key` mapped; the same object when no item changed. */
function exposeIn(
  result: JsonObject,
  key: string,
  map: ItemMap,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): JsonObject {
  const items = result[key];
  if (!Array.isArray(items)) return result;
  let out: Json[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const next = map(item, catalog, server, mayRead);
    if (next === item && out === undefined) continue;
    out ??= items.slice(0, i);
    if (next !== undefined) out.push(next);
  }
  return out === undefined ? result : { ...result, [key]: out };
}

/** A prompt message whose content block is exposed; undefined when the caller may not read it. */
function exposeMessage(
  message: Json,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): Json | undefined {
  if (!isJsonObject(message) || !isJsonObject(message.content)) return message;
  const content = exposeBlock(message.content, catalog, server, mayRead);
  if (content === undefined) return undefined;
  return content === message.content ? message : { ...message, content };
}

/** A content block with its resource URI exposed; undefined when the caller may not read it. */
function exposeBlock(
  block: Json,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): Json | undefined {
  if (!isJsonObject(block)) return block;
  if (block.type === "resource_link") return exposeContents(block, catalog, server, mayRead);
  if (block.type !== "resource" || !isJsonObject(block.resource)) return block;
  const resource = exposeContents(block.resource, catalog, server, mayRead);
  if (resource === undefined) return undefined;
  return resource === block.resource ? block : { ...block, resource };
}

/** Something with a `uri` of `server`, exposed; undefined when the caller may not read it. */
function exposeContents(
  item: Json,
  catalog: Catalog,
  server: string,
  mayRead: MayRead,
): Json | undefined {
  if (!isJsonObject(item) || typeof item.uri !== "string") return item;
  const uri = catalog.exposeUri(server, item.uri);
  if (mayRead && !mayRead(uri)) return undefined;
  return uri === item.uri ? item : { ...item, uri };
}
