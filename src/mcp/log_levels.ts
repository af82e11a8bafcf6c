/** MCP log levels (RFC 5424 severities, spec: logging) and the per-session filter. */

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Whether a value is an MCP log level. */
export function isLogLevel(value: unknown): value is string {
  return typeof value === "string" && LEVELS.includes(value);
}

/** Whether a message at `level` passes a session's minimum (no minimum set lets everything pass). */
export function logLevelAllows(minimum: string | undefined, level: unknown): boolean {
  if (minimum === undefined || typeof level !== "string") return true;
  return LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
}
