/**
 * Exposed names of upstream tools and prompts. A client-safe name matches
 * `^[a-zA-Z0-9_-]{1,64}$`; anything else is rewritten deterministically with a short hash
 * of the original, so names are stable across restarts and independent of other servers.
 */

const CLIENT_SAFE = /^[a-zA-Z0-9_-]{1,64}$/;
const UNSAFE_CHARS = /[^a-zA-Z0-9_-]/g;
const MAX_LENGTH = 64;

/** The separator between server and tool in qualified names. */
export const SEPARATOR = "__";

/** Whether a name is accepted by every common MCP client. */
export function isClientSafeName(name: string): boolean {
  return CLIENT_SAFE.test(name);
}

/** The name a client sees for an upstream item: `<server>__<name>`, or `name` when not prefixed. */
export function exposedName(server: string, name: string, prefixed: boolean): string {
  const raw = prefixed ? `${server}${SEPARATOR}${name}` : name;
  if (CLIENT_SAFE.test(raw)) return raw;
  const suffix = `_${fnv1a(raw)}`;
  return raw.replace(UNSAFE_CHARS, "_").slice(0, MAX_LENGTH - suffix.length) + suffix;
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits: short, stable, dependency-free. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
