/**
 * Loading the config: YAML (with positions) → schema → environment, every problem a
 * {@linkcode ConfigError} at `file:line:column`.
 */
import {
  type Document,
  isCollection,
  LineCounter,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
import { type EnvLookup, resolveConfig, resolveDownstreamAuth, resolveServer } from "./env.ts";
import { ConfigError } from "./error.ts";
import { formatPath, quote, quotePath } from "./format.ts";
import { configErrorMap, fromZodIssues, type PathIssue } from "./issues.ts";
import { locate, pathOfKeyAt } from "./positions.ts";
import { type Config, configSchema, mcpSchema, serverSchema } from "./schema.ts";

export { ConfigError } from "./error.ts";

/** Options of {@linkcode loadConfig}; both default to the real process (Deno.env, the file system). */
export interface LoadOptions {
  /** Reads an environment variable. */
  env?: EnvLookup;
  /** Reads the config file. */
  readTextFile?: (path: string) => Promise<string>;
}

/** The outcome of {@linkcode validateConfig}: the config, or every problem in document order. */
export interface Validation {
  /** The loaded config, present when there are no errors. */
  config?: Config;
  /** Every problem, in document order. */
  errors: ConfigError[];
}

const processEnv: EnvLookup = (name) => Deno.env.get(name);

/**
 * Validates config `text` (from `file`, used in messages) and collects every problem, so that
 * `mcpstead check` can print them all.
 */
export function validateConfig(
  text: string,
  file: string,
  env: EnvLookup = processEnv,
): Validation {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    // The yaml package reads LOG_TOKENS and LOG_STREAM: without env access to them it throws.
    const why = error instanceof Error ? error.message : String(error);
    return { errors: [new ConfigError(file, 0, 0, "", `Cannot parse config: ${why}`)] };
  }
  const syntax = yamlErrors(file, text, doc, lineCounter);
  if (syntax.length > 0) return { errors: sortErrors(syntax) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { errors: [new ConfigError(file, 1, 1, "", `Cannot read the YAML document: ${why}`)] };
  }
  const issues: PathIssue[] = [];
  const parsed = configSchema.safeParse(data, { error: configErrorMap });
  let config: Config | undefined;
  if (parsed.success) {
    const resolved = resolveConfig(parsed.data, env);
    issues.push(...resolved.issues);
    config = resolved.config;
  } else {
    issues.push(...fromZodIssues(parsed.error.issues, configSchema));
    issues.push(...envIssuesOfValidParts(data, env));
  }
  const errors = sortErrors(issues.map((issue) => {
    const { line, column } = locate(doc, lineCounter, issue.path, issue.at);
    return new ConfigError(file, line, column, formatPath(issue.path), issue.reason);
  }));
  if (errors.length > 0 || config === undefined) return { errors };
  return { config, errors };
}

/**
 * Parses config `text` (from `file`) into a {@linkcode Config}; throws the first problem, in
 * document order, as a {@linkcode ConfigError}.
 *
 * @example Defaults, and an error with its position
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { parseConfig } from "./load.ts";
 *
 * const env = (name: string) => ({ GITHUB_TOKEN: "t0ken" })[name];
 * const config = parseConfig(
 *   "servers:\n  - name: github\n    url: https://api.example.com/mcp\n" +
 *     "    auth: {type: bearer, token_env: GITHUB_TOKEN}\n",
 *   "mcpstead.yaml",
 *   env,
 * );
 * equal(config.port, 8766);
 * equal(config.servers[0]?.auth.type, "bearer");
 * throws(() => parseConfig("prot: 80\n", "mcpstead.yaml", env), {
 *   message: "mcpstead.yaml:1:1: prot: unknown key 'prot' (did you mean 'port'?)",
 * });
 * ```
 */
export function parseConfig(text: string, file: string, env: EnvLookup = processEnv): Config {
  const { config, errors } = validateConfig(text, file, env);
  const [first] = errors;
  if (first !== undefined) throw first;
  if (config === undefined) throw new ConfigError(file, 0, 0, "", "Cannot load config: unknown");
  return config;
}

/** Reads and parses the config file at `path`; a file that cannot be read is a ConfigError too. */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<Config> {
  const read = options.readTextFile ?? ((p: string) => Deno.readTextFile(p));
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    throw new ConfigError(
      path,
      0,
      0,
      "",
      `Cannot read config ${quotePath(path)}: ${osReason(error)}`,
    );
  }
  return parseConfig(text, path, options.env ?? processEnv);
}

function osReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  if (error instanceof Deno.errors.NotCapable) return "no read permission (see --allow-read)";
  return error instanceof Error ? error.message : String(error);
}

/**
 * When the schema rejects the file, the servers and the `mcp` section that are valid on their
 * own still get their environment checked, so one run reports missing variables as well.
 */
function envIssuesOfValidParts(data: unknown, env: EnvLookup): PathIssue[] {
  const issues: PathIssue[] = [];
  if (typeof data !== "object" || data === null) return issues;
  const { servers, mcp } = data as { servers?: unknown; mcp?: unknown };
  if (Array.isArray(servers)) {
    servers.forEach((raw: unknown, index) => {
      const server = serverSchema.safeParse(raw);
      if (server.success) resolveServer(server.data, ["servers", index], env, issues);
    });
  }
  const section = mcpSchema.safeParse(mcp);
  if (section.success) resolveDownstreamAuth(section.data.auth, ["mcp", "auth"], env, issues);
  return issues;
}

function yamlErrors(
  file: string,
  text: string,
  doc: Document,
  lineCounter: LineCounter,
): ConfigError[] {
  const errors = [...doc.errors, ...doc.warnings].map((error) => yamlError(file, text, doc, error));
  visit(doc, {
    Pair(_, pair) {
      // yaml would stringify such a key with a process warning; no config key is one.
      if (!isCollection(pair.key)) return;
      const { line, col } = lineCounter.linePos(pair.key.range?.[0] ?? 0);
      errors.push(
        new ConfigError(file, line, col, "", "a key must be a plain value, not a list or mapping"),
      );
    },
    Alias(_, node) {
      if (node.resolve(doc) !== undefined) return;
      const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
      const reason = `alias ${quote(`*${node.source}`)} has no anchor before it`;
      errors.push(new ConfigError(file, line, col, "", reason));
    },
  });
  return errors;
}

function yamlError(file: string, text: string, doc: Document, error: YAMLError): ConfigError {
  const { line, col } = error.linePos?.[0] ?? lineCol(text, error.pos[0]);
  let reason = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "";
  let path = "";
  if (error.code === "DUPLICATE_KEY") {
    const duplicate = pathOfKeyAt(doc, error.pos[0]);
    if (duplicate !== undefined) {
      path = formatPath(duplicate);
      reason = `duplicate key ${quote(duplicate[duplicate.length - 1])}`;
    }
  }
  return new ConfigError(file, line, col, path, reason);
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

function sortErrors(errors: ConfigError[]): ConfigError[] {
  return errors
    .map((error, index) => ({ error, index }))
    .sort((a, b) =>
      a.error.line - b.error.line || a.error.column - b.error.column || a.index - b.index
    )
    .map(({ error }) => error);
}
