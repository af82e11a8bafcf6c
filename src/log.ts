/** The logger: one line per event, JSON lines or a human format; the only place that writes logs. */

/** Log levels, most verbose first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** Structured fields of a log line. Never put a secret here. */
export type LogFields = Record<string, unknown>;

/** A leveled, structured logger. */
export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  format: "json" | "pretty";
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
  now?: () => Date;
}

const encoder = new TextEncoder();
const stderrWrite = (line: string) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
};

/** Creates a logger writing JSON lines or pretty lines at or above `level`. */
export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const write = options.write ?? stderrWrite;
  const now = options.now ?? (() => new Date());
  const min = RANK[options.level];
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const all = fields ? { ...base, ...fields } : base;
    write(
      options.format === "json"
        ? JSON.stringify({ ts: now().toISOString(), level, msg, ...all }, jsonReplacer)
        : pretty(now(), level, msg, all),
    );
  };
  return {
    trace: (m, f) => emit("trace", m, f),
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  with: () => silentLogger,
};

/**
 * A logger whose lines pass through `redact` first: the message, every string field and every
 * error (as its description), also inside arrays and objects.
 */
export function redactingLogger(log: Logger, redact: (text: string) => string): Logger {
  const clean = (fields?: LogFields) =>
    fields === undefined ? undefined : redactValue(fields, redact, 0) as LogFields;
  return {
    trace: (m, f) => log.trace(redact(m), clean(f)),
    debug: (m, f) => log.debug(redact(m), clean(f)),
    info: (m, f) => log.info(redact(m), clean(f)),
    warn: (m, f) => log.warn(redact(m), clean(f)),
    error: (m, f) => log.error(redact(m), clean(f)),
    with: (fields) => redactingLogger(log.with(clean(fields)!), redact),
  };
}

function redactValue(value: unknown, redact: (text: string) => string, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return redact(describeError(value));
  if (depth > 4 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, redactValue(item, redact, depth + 1)]),
  );
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? describeError(value) : value;
}

function pretty(ts: Date, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${ts.toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [key, value] of Object.entries(fields)) {
    const text = value instanceof Error
      ? describeError(value)
      : typeof value === "string"
      ? value
      : JSON.stringify(value);
    line += ` ${key}=${/[\s"=]/.test(text ?? "") ? JSON.stringify(text) : text}`;
  }
  return line;
}

/** An error's message with its causes, e.g. "Cannot reach upstream 'a': Connection refused". */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? current.message : String(current);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
