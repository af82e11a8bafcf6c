/**
 * Request ids exactly as the client sent them. JSON.parse turns an integer beyond 2^53 into the
 * nearest double (9007199254740993 becomes 9007199254740992), so its answer would carry another
 * id, and two such ids could meet in one slot. Only when a parsed id lost digits is the body
 * parsed again, reading the id's source text (V8's JSON.parse source access), into a bigint.
 */
import { isJsonObject, isRequestId, type JsonRpcId } from "../mcp/jsonrpc.ts";
import type { RequestKey } from "./sessions.ts";

/** A value JSON.stringify writes as the given JSON text. */
type RawJson = { readonly rawJSON: string };

const rawJson = (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON;
const INTEGER = /^-?\d+$/;

/** Whether a request id is valid: a string, a finite number, or a bigint kept by {@link parseExactIds}. */
export function isRequestKey(value: unknown): value is RequestKey {
  return typeof value === "bigint" || isRequestId(value);
}

/** Whether a parsed message (or batch) has an id, or a cancelled `requestId`, that lost digits. */
export function hasInexactId(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(hasInexactId);
  if (!isJsonObject(body)) return false;
  return lostDigits(body.id) || (isJsonObject(body.params) && lostDigits(body.params.requestId));
}

/**
 * Parses `text` again, with each message's `id` (and a `notifications/cancelled` request's
 * `params.requestId`) that lost digits as a bigint of the digits sent.
 */
export function parseExactIds(text: string): unknown {
  const sources = new Map<object, string>();
  const value: unknown = JSON.parse(
    text,
    function (this: object, key: string, parsed: unknown, context?: { source?: string }) {
      const source = context?.source;
      if (
        (key === "id" || key === "requestId") && lostDigits(parsed) && source !== undefined &&
        INTEGER.test(source)
      ) sources.set(this, source);
      return parsed;
    } as (key: string, value: unknown) => unknown,
  );
  for (const message of Array.isArray(value) ? value : [value]) {
    if (!isJsonObject(message)) continue;
    const id = sources.get(message);
    if (id !== undefined) (message as Record<string, unknown>).id = BigInt(id);
    const params = message.params;
    if (message.method !== "notifications/cancelled" || !isJsonObject(params)) continue;
    const requestId = sources.get(params);
    if (requestId !== undefined) (params as Record<string, unknown>).requestId = BigInt(requestId);
  }
  return value;
}

/** The id as JSON.stringify must write it: a bigint as its digits. */
export function wireId(id: RequestKey): JsonRpcId | RawJson {
  return typeof id === "bigint" ? rawJson(String(id)) : id;
}

function lostDigits(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value);
}
