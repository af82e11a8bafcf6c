/** Helpers shared by the config tests. */
import { equal, fail } from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/mod.ts";

/** An environment with no variables at all. */
export const noEnv = (_name: string): string | undefined => undefined;

/** An environment holding exactly `vars`. */
export function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => Object.hasOwn(vars, name) ? vars[name] : undefined;
}

/** Strips the first newline and the common indentation of a template literal, so YAML reads well in tests. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const joined = strings.reduce(
    (out, part, i) => out + (i > 0 ? String(values[i - 1]) : "") + part,
    "",
  );
  const raw = joined.replace(/^\n/, "");
  const indents = raw.split("\n").filter((line) => line.trim() !== "").map((line) =>
    line.length - line.trimStart().length
  );
  const indent = Math.min(...indents, Infinity);
  const cut = Number.isFinite(indent) ? indent : 0;
  return raw.split("\n").map((line) => line.slice(cut)).join("\n").replace(/[ ]+$/, "");
}

/** Asserts that parsing `text` (as "c.yaml") throws a ConfigError whose message is exactly `message`. */
export function assertRejects(
  text: string,
  message: string,
  env: (name: string) => string | undefined = noEnv,
): ConfigError {
  try {
    parseConfig(text, "c.yaml", env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    equal(error.message, message);
    return error;
  }
  fail(`expected "${message}", but the config loaded`);
}
