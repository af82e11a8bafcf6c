/** Reading `logging.level`: a plain level name or a Rust `EnvFilter` directive string. */

/** The log levels mcpstead knows, quietest last. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

type Level = (typeof LOG_LEVELS)[number];

// tracing's EnvFilter spells levels case-insensitively and also knows "warning" and "off".
// We have no "off", so a filter that silences mcpstead keeps errors only.
const WORDS: ReadonlyMap<string, Level> = new Map<string, Level>([
  ["trace", "trace"],
  ["debug", "debug"],
  ["info", "info"],
  ["warn", "warn"],
  ["warning", "warn"],
  ["error", "error"],
  ["off", "error"],
]);

/**
 * Derives our level from `text` the way Rust mcpstead's filter would for its own logs: the level
 * of a `mcpstead=<level>` directive, else the bare level directive, else `info`.
 */
export function parseLogLevel(text: string): { level: Level } | { unknownWord: string } {
  let own: Level | undefined;
  let bare: Level | undefined;
  for (const raw of text.split(",")) {
    const directive = raw.trim();
    if (directive === "") continue;
    const eq = directive.lastIndexOf("=");
    if (eq === -1) {
      // A bare word that is no level is a target name to EnvFilter ("mcpstead" alone means
      // everything from mcpstead); for any other target it is most likely a typo.
      if (directive === "mcpstead") own = "trace";
      else {
        const level = WORDS.get(directive.toLowerCase());
        if (level === undefined) return { unknownWord: directive };
        bare = level;
      }
      continue;
    }
    const word = directive.slice(eq + 1).trim();
    const level = WORDS.get(word.toLowerCase());
    if (level === undefined) return { unknownWord: word };
    if (directive.slice(0, eq).trim() === "mcpstead") own = level;
  }
  return { level: own ?? bare ?? "info" };
}
