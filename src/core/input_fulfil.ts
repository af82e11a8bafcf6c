/**
 * The bridge from a 2026-07-28 upstream to a legacy client (spec 2026-07-28: patterns/mrtr, as
 * the client side): an `input_required` result is turned into real server→client requests to
 * the client (elicitation, sampling, roots, only those it declared), and the upstream is retried
 * with the answers and the same `requestState` until the result is complete, for a bounded
 * number of rounds. A legacy client then sees an ordinary result, without the modern fields.
 */
import { McpError } from "../mcp/errors.ts";
import { withoutReservedMeta } from "../mcp/era.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";

/** Asks the legacy client one request (on the call's stream), as the session endpoint does. */
export type AskClient = (
  request: { method: string; params?: JsonObject },
  signal: AbortSignal,
) => Promise<JsonObject>;

/** Rounds of questions one call may take before the gateway gives up. */
export const MAX_INPUT_ROUNDS = 8;

/**
 * Answers `result` for a legacy client: while it is `input_required`, asks the client every
 * input request at once and retries with the answers; then drops the modern result fields.
 */
export async function fulfilForLegacy(
  result: JsonObject,
  retry: (extra: JsonObject) => Promise<JsonObject>,
  ask: AskClient,
  signal: AbortSignal,
): Promise<JsonObject> {
  let current = result;
  for (let round = 1; current.resultType === "input_required"; round++) {
    if (round > MAX_INPUT_ROUNDS) {
      throw new McpError(
        ErrorCode.InternalError,
        `Cannot finish the request: the upstream asked for input ${MAX_INPUT_ROUNDS} times`,
      );
    }
    const requests = isJsonObject(current.inputRequests) ? current.inputRequests : {};
    const answers = await Promise.all(
      Object.entries(requests).map(async (
        [key, request],
      ) => [key, await askOne(request, ask, signal)]),
    );
    const extra: JsonObject = { inputResponses: Object.fromEntries(answers) };
    if (typeof current.requestState === "string") extra.requestState = current.requestState;
    current = await retry(extra);
  }
  return withoutModernFields(current);
}

/**
 * A result without the 2026-07-28 fields a legacy client does not know, nor the upstream's
 * reserved `_meta` keys (its `serverInfo` would name the upstream behind the gateway).
 */
export function withoutModernFields(result: JsonObject): JsonObject {
  const { resultType: _, ttlMs: __, cacheScope: ___, ...rest } = result;
  return withoutReservedMeta(rest);
}

function askOne(request: unknown, ask: AskClient, signal: AbortSignal): Promise<JsonObject> {
  if (!isJsonObject(request) || typeof request.method !== "string") {
    return Promise.reject(
      new McpError(
        ErrorCode.InternalError,
        "Cannot ask the client: the upstream sent a malformed input request",
      ),
    );
  }
  const params = isJsonObject(request.params) ? request.params : undefined;
  // A 2025-11-25 URL elicitation carries an id the client may echo; 2026-07-28 dropped it.
  const legacyParams = request.method === "elicitation/create" && params?.mode === "url" &&
      params.elicitationId === undefined
    ? { ...params, elicitationId: crypto.randomUUID() }
    : params;
  return ask(
    legacyParams === undefined
      ? { method: request.method }
      : { method: request.method, params: legacyParams },
    signal,
  );
}
