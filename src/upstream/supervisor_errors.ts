/** The errors a supervisor gives a call it cannot serve, with the upstream's secrets taken out. */
import { GatewayError, McpError } from "../mcp/errors.ts";
import type { UpstreamPhase } from "./supervisor_types.ts";

/** Where a supervisor that is not connected stands, for the error of a call. */
export interface Unreachable {
  name: string;
  phase: UpstreamPhase;
  failures: number;
  lastError: string | undefined;
  /** When the next attempt comes, in ms from now. */
  retryAfterMs: number;
}

/** The error of a call while the upstream is not connected; it names when to try again. */
export function unavailableError(state: Unreachable): GatewayError {
  const { name, phase, retryAfterMs } = state;
  const last = state.lastError === undefined ? "" : `; last error: ${state.lastError}`;
  if (phase === "failed" || phase === "stopped") {
    const why = phase === "failed"
      ? `the gateway gave up after ${state.failures} failed attempts (reconnect.max_attempts)`
      : "it was stopped";
    return new GatewayError(
      "upstream_unavailable",
      name,
      `Cannot reach upstream '${name}': ${why}${last}`,
    );
  }
  const now = phase === "backoff"
    ? `it is down and reconnecting (next attempt in ${retryAfterMs} ms)`
    : "it is connecting";
  return new GatewayError(
    "upstream_unavailable",
    name,
    `Cannot reach upstream '${name}' now: ${now}${last}`,
    { retryAfterMs },
  );
}

/** The error of a call whose connection ended under it. */
export function disconnectedError(name: string): GatewayError {
  return new GatewayError("upstream_disconnected", name, `Upstream '${name}' is disconnected`);
}

/** The error with its message redacted (a new error only when the message changes). */
export function redactedError(error: unknown, redact: (text: string) => string): unknown {
  if (!(error instanceof GatewayError) && !(error instanceof McpError)) return error;
  const message = redact(error.message);
  if (message === error.message) return error;
  if (error instanceof McpError) return new McpError(error.code, message, error.data);
  const { cause, status, retryAfterMs, rpcCode } = error;
  return new GatewayError(error.code, error.server, message, {
    cause,
    ...(status === undefined ? {} : { status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(rpcCode === undefined ? {} : { rpcCode }),
  });
}
