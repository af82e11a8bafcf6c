/** MCP log levels (RFC 5424 severities, spec: logging) and the per-session filter. */

/** The levels, most verbose first. */
export const LOG_LEVELS: readonly string[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** Whether a value is an MCP log level. */
export function isLogLevel(value: unknown): value is string {
  return typeof value === "string" && LOG_LEVELS.includes(value);
}

/** The most verbose of some levels, if any is a level. */
export function mostVerbose(levels: Iterable<string>): string | undefined {
  let best: number | undefined;
  for (const level of levels) {
    const rank = LOG_LEVELS.indexOf(level);
    if (rank !== -1 && (best === undefined || rank < best)) best = rank;
  }
  return best === undefined ? undefined : LOG_LEVELS[best];
}

/** Whether a message at `level` passes a session's minimum (no minimum set lets everything pass). */
export function logLevelAllows(minimum: string | undefined, level: unknown): boolean {
  if (minimum === undefined || typeof level !== "string") return true;
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(minimum);
}
