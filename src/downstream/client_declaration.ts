/**
 * What a session keeps of a client's `initialize`: only what the gateway uses, in a bounded
 * size. A client may declare anything (a 4 MB `clientInfo`, unknown capabilities); keeping it
 * whole let a few thousand sessions take gigabytes.
 */
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";

/** The longest `clientInfo.name` or `version` kept (longer ones are cut). */
export const MAX_CLIENT_INFO_CHARS = 256;

/**
 * The client capabilities the gateway relays to upstreams (spec 2025-11-25 `ClientCapabilities`),
 * each with the sub-keys it may carry; their values are flags or empty objects.
 */
const KNOWN_CAPABILITIES: Readonly<Record<string, readonly string[]>> = {
  roots: ["listChanged"],
  sampling: ["context", "tools"],
  elicitation: ["form", "url"],
};

/** The client's name and version, as strings of at most {@link MAX_CLIENT_INFO_CHARS}. */
export function keptClientInfo(value: unknown): { name?: string; version?: string } {
  if (!isJsonObject(value)) return {};
  const kept: { name?: string; version?: string } = {};
  if (typeof value.name === "string") kept.name = ownCopy(value.name);
  if (typeof value.version === "string") kept.version = ownCopy(value.version);
  return kept;
}

/**
 * The start of `text` in a string of its own. V8 may make a parsed string, and a slice of it, a
 * view into the whole request text, so keeping the slice would keep the whole body alive.
 */
function ownCopy(text: string): string {
  return Array.from(text.slice(0, MAX_CLIENT_INFO_CHARS)).join("");
}

/** The known capabilities the client declared, each reduced to its known sub-keys. */
export function keptCapabilities(value: unknown): JsonObject {
  const kept: JsonObject = {};
  if (!isJsonObject(value)) return kept;
  for (const [capability, subKeys] of Object.entries(KNOWN_CAPABILITIES)) {
    const declared = value[capability];
    if (!isJsonObject(declared)) continue;
    const shape: JsonObject = {};
    for (const key of subKeys) {
      const sub = declared[key];
      if (typeof sub === "boolean") shape[key] = sub;
      else if (isJsonObject(sub)) shape[key] = {};
    }
    kept[capability] = shape;
  }
  return kept;
}
