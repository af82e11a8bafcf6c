/**
 * Running the `mcpstead` command line (`deno run -A main.ts ...`) as a user would, with a clean
 * environment, and writing config files for it.
 *
 * @module
 */
import { DENO_DIR } from "./procs.ts";

/** `main.ts` of this checkout. */
export const MAIN: string = new URL("../../main.ts", import.meta.url).pathname;

/** What one run printed and its exit code. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A main.ts ...args` with only NO_COLOR, DENO_DIR (the cache of this run, kept
 * when a test fakes HOME), PATH and `env` in its environment.
 */
export async function runMcpstead(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", DENO_DIR, PATH: Deno.env.get("PATH") ?? "", ...env },
    clearEnv: true,
    ...(cwd ? { cwd } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Writes `text` to `mcpstead.yaml` in a new temporary directory and returns its path. */
export async function configFile(text: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/mcpstead.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}
