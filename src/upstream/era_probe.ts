/**
 * Which era an upstream speaks (`era: auto`), judged from its answer to `server/discover` by the
 * rules of spec 2026-07-28 (basic/versioning, backward compatibility) and of the TypeScript SDK:
 * a discover result sharing a version, or a recognised modern error, means modern; an answer a
 * legacy server gives (4xx other than 401/403, 5xx, 202, -32600, -32601, an unreadable body)
 * means legacy; an authentication refusal or a network failure is an error, not a verdict.
 */
import { GatewayError, McpError } from "../mcp/errors.ts";
import { isModernError, isModernVersion, MODERN_VERSIONS } from "../mcp/era.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { describeError } from "../log.ts";

/** The verdict of one probe. */
export type EraVerdict =
  | { era: "modern"; version: string; discover: JsonObject }
  | { era: "legacy"; evidence: string }
  | { era: "failed"; error: Error };

/** Judges the outcome of a `server/discover` request: its result, or what it threw. */
export function judgeDiscover(outcome: { result: JsonObject } | { error: unknown }): EraVerdict {
  if ("result" in outcome) return judgeResult(outcome.result);
  const error = outcome.error;
  if (error instanceof McpError) return judgeRpcError(error);
  if (error instanceof GatewayError) {
    const status = error.status;
    if (error.code === "upstream_protocol_error") {
      return { era: "legacy", evidence: "its answer to server/discover was not a JSON-RPC result" };
    }
    if (status === 401 || status === 403) {
      return { era: "failed", error };
    }
    if (status !== undefined && (status >= 400 || status === 202)) {
      return { era: "legacy", evidence: `server/discover was answered HTTP ${status}` };
    }
  }
  return { era: "failed", error: error instanceof Error ? error : new Error(String(error)) };
}

/**
 * The verdict of a probe on a short-lived transport of its own (stdio): a modern answer means
 * modern, anything else a started server says (an error, silence, an exit) means legacy; only a
 * server that cannot be started at all is a failure.
 */
export function judgeSibling(verdict: EraVerdict): EraVerdict {
  if (
    verdict.era !== "failed" || (verdict.error instanceof GatewayError &&
      verdict.error.code === "upstream_unreachable")
  ) return verdict;
  return {
    era: "legacy",
    evidence: `it did not answer server/discover (${verdict.error.message})`,
  };
}

/** The error of a probe whose answer says neither era: the real cause, as the upstream gave it. */
export function probeFailure(server: string, error: Error): Error {
  if (error instanceof GatewayError) return error;
  return new GatewayError(
    "upstream_protocol_error",
    server,
    `Cannot speak to upstream '${server}': ${describeError(error)}`,
    { cause: error },
  );
}

function judgeResult(result: JsonObject): EraVerdict {
  const versions = Array.isArray(result.supportedVersions)
    ? result.supportedVersions.filter((v): v is string => typeof v === "string")
    : undefined;
  if (versions === undefined || !isJsonObject(result.capabilities)) {
    return { era: "legacy", evidence: "its answer to server/discover is not a discover result" };
  }
  const shared = MODERN_VERSIONS.find((version) => versions.includes(version));
  if (shared !== undefined) return { era: "modern", version: shared, discover: result };
  if (versions.some((version) => !isModernVersion(version))) {
    return {
      era: "legacy",
      evidence: `it supports ${versions.join(", ")} and no modern revision we speak`,
    };
  }
  return {
    era: "failed",
    error: new Error(
      `it supports only ${versions.join(", ")}; this gateway speaks ${MODERN_VERSIONS.join(", ")}`,
    ),
  };
}

function judgeRpcError(error: McpError): EraVerdict {
  if (error.code === ErrorCode.UnsupportedProtocolVersion) {
    const data = isJsonObject(error.data) ? error.data : {};
    const supported = Array.isArray(data.supported)
      ? data.supported.filter((v): v is string => typeof v === "string")
      : [];
    const shared = MODERN_VERSIONS.find((version) => supported.includes(version));
    if (shared !== undefined) {
      return {
        era: "failed",
        error: new Error(
          `it refused ${MODERN_VERSIONS[0]} although it lists it (${error.message})`,
        ),
      };
    }
    if (supported.some((version) => !isModernVersion(version))) {
      return { era: "legacy", evidence: `it supports ${supported.join(", ")}` };
    }
    return {
      era: "failed",
      error: new Error(
        `it supports ${supported.join(", ") || "no listed version"}; this gateway speaks ${
          MODERN_VERSIONS.join(", ")
        } and the 2025 revisions`,
      ),
    };
  }
  if (isModernError(error.code)) {
    return {
      era: "failed",
      error: new Error(`it refused server/discover: ${error.message} (${error.code})`),
    };
  }
  return { era: "legacy", evidence: `server/discover was answered ${error.code} ${error.message}` };
}
