/**
 * `deno task compile [--target <target>]... [--dry-run]`: compiles main.ts with `deno compile`
 * into `dist/mcpstead-<target>` for each release target (all four by default), with the
 * permissions baked in. `--dry-run` prints the commands instead of running them.
 *
 * A compiled binary takes no Deno flags at run time, and the config path, upstream hosts,
 * commands and variables are only known then, so the baked set is the four kinds the gateway
 * uses without values (README "Sandboxed runs" has the narrow per-config flags for `deno run`).
 * No `--allow-sys`, `--allow-write`, `--allow-ffi` or `--allow-import`: nothing needs them.
 * `deno compile` downloads its runtime (denort) from Deno's own host, so run this in CI.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The release targets: Linux and macOS, x86_64 and arm64. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/** The permissions baked into every binary. */
export const COMPILE_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-run",
];

/** The `deno` arguments that compile main.ts for `target` into `dist/mcpstead-<target>`. */
export function compileArgs(target: string): string[] {
  return [
    "compile",
    ...COMPILE_PERMISSIONS,
    "--target",
    target,
    "--output",
    `dist/mcpstead-${target}`,
    "main.ts",
  ];
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { target: { type: "string", multiple: true }, "dry-run": { type: "boolean" } },
  });
  const targets = values.target ?? [...TARGETS];
  const unknown = targets.filter((target) => !TARGETS.includes(target));
  if (unknown.length > 0) {
    write(
      Deno.stderr,
      `compile: unknown target ${unknown.join(", ")}; known: ${TARGETS.join(", ")}`,
    );
    return 2;
  }
  const root = new URL("../", import.meta.url);
  for (const target of targets) {
    const argv = compileArgs(target);
    write(Deno.stdout, `deno ${argv.join(" ")}`);
    if (values["dry-run"]) continue;
    Deno.mkdirSync(new URL("dist/", root), { recursive: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: argv,
      cwd: root,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const { code } = await child.status;
    if (code !== 0) {
      write(Deno.stderr, `compile: deno compile for ${target} exited ${code}`);
      return 1;
    }
  }
  return 0;
}

function write(stream: { writeSync(p: Uint8Array): number }, line: string): void {
  stream.writeSync(new TextEncoder().encode(`${line}\n`));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
