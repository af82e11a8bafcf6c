import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { completionScript, helpText, OPTIONS, SHELLS, SUBCOMMANDS } from "../src/cli_text.ts";
import { requireTool } from "./_support/tools.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(command, {
    args,
    env: { NO_COLOR: "1", HOME: await Deno.makeTempDir() },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function scriptFile(shell: string): Promise<string> {
  const path = `${await Deno.makeTempDir()}/mcpstead.${shell}`;
  await Deno.writeTextFile(path, completionScript(shell)!);
  return path;
}

Deno.test("mcpstead completions <shell> prints the script; a bad shell is a usage error", async () => {
  for (const shell of SHELLS) {
    const out = await run(Deno.execPath(), ["run", "-A", MAIN, "completions", shell]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, completionScript(shell));
  }
  for (const args of [["completions"], ["completions", "tcsh"], ["completions", "bash", "x"]]) {
    const out = await run(Deno.execPath(), ["run", "-A", MAIN, ...args]);
    assert.equal(out.code, 2, args.join(" "));
    assert.match(out.stderr, /completions takes one shell: mcpstead completions bash\|zsh\|fish/);
  }
});

Deno.test("completionScript() names every subcommand and option in every shell", () => {
  assert.equal(completionScript("tcsh"), undefined);
  for (const shell of SHELLS) {
    const script = completionScript(shell)!;
    for (const { name } of SUBCOMMANDS) assert.match(script, new RegExp(`\\b${name}\\b`), shell);
    for (const { long } of OPTIONS) {
      const word = shell === "fish" ? `-l ${long.slice(2)}` : long;
      assert.ok(script.includes(word), `${shell}: ${word}`);
    }
  }
});

Deno.test("the bash completion parses and completes commands, flags and values", async () => {
  const file = await scriptFile("bash");
  assert.equal((await run("bash", ["-n", file])).code, 0);
  const complete = async (line: string) => {
    const words = line.split(" ");
    const out = await run("bash", [
      "-c",
      `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); ` +
      `COMP_CWORD=${words.length - 1}; _mcpstead; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ]);
    assert.equal(out.code, 0, out.stderr);
    return out.stdout.trim().split("\n").sort();
  };
  assert.deepEqual(await complete("mcpstead "), [
    "check",
    "completions",
    "import",
    "openapi",
    "serve",
  ]);
  assert.deepEqual(await complete("mcpstead c"), ["check", "completions"]);
  assert.deepEqual(await complete("mcpstead completions "), ["bash", "fish", "zsh"]);
  assert.deepEqual(await complete("mcpstead --log-format "), ["auto", "json", "pretty"]);
  assert.deepEqual(await complete("mcpstead --w"), ["--watch"]);
  assert.deepEqual(await complete("mcpstead check --"), ["--config", "--connect", "--help"]);
  assert.deepEqual(await complete("mcpstead openapi --"), ["--config", "--help"]);
});

Deno.test(requireTool(["zsh"], {
  name: "the zsh completion parses and registers _mcpstead",
  fn: async ({ zsh }) => {
    const file = await scriptFile("zsh");
    const syntax = await run(zsh, ["-n", file]);
    assert.equal(syntax.code, 0, syntax.stderr);
    const loaded = await run(zsh, [
      "-f",
      "-c",
      `autoload -U compinit && compinit -u -D && source ${file} && print -r -- $_comps[mcpstead]`,
    ]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout.trim(), "_mcpstead");
  },
}));

Deno.test(requireTool(["fish"], {
  name: "the fish completion parses and completes commands, flags and values",
  fn: async ({ fish }) => {
    const file = await scriptFile("fish");
    const syntax = await run(fish, ["--no-execute", file]);
    assert.equal(syntax.code, 0, syntax.stderr);
    const complete = async (line: string) => {
      const out = await run(fish, ["--no-config", "-c", `source ${file}; complete -C '${line}'`]);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout.trim().split("\n").map((l) => l.split("\t")[0]).sort();
    };
    assert.deepEqual(await complete("mcpstead "), [
      "check",
      "completions",
      "import",
      "openapi",
      "serve",
    ]);
    assert.deepEqual(await complete("mcpstead completions "), ["bash", "fish", "zsh"]);
    assert.deepEqual(await complete("mcpstead --log-format "), ["auto", "json", "pretty"]);
    assert.ok((await complete("mcpstead --")).includes("--watch"));
    assert.ok(!(await complete("mcpstead --")).includes("--connect"));
    assert.ok((await complete("mcpstead check --")).includes("--connect"));
  },
}));

Deno.test("helpText() has the man page sections, every subcommand, option and variable", () => {
  const help = helpText(denoJson.version);
  const sections = [
    "NAME",
    "SYNOPSIS",
    "COMMANDS",
    "OPTIONS",
    "ENVIRONMENT",
    "FILES",
    "EXIT STATUS",
  ];
  const at = sections.map((s) => help.indexOf(`\n${s}\n`) + 1 || (help.startsWith(s) ? 0 : -1));
  assert.ok(at.every((i) => i >= 0), `sections ${sections.join(", ")}: ${at}`);
  assert.deepEqual(at, [...at].sort((a, b) => a - b), "sections in man page order");
  assert.ok(help.includes(`mcpstead ${denoJson.version}`));
  const commands = help.slice(help.indexOf("\nCOMMANDS\n"), help.indexOf("\nOPTIONS\n"));
  for (const { name } of SUBCOMMANDS) assert.match(commands, new RegExp(`^  ${name}\\b`, "m"));
  for (const { long, short } of OPTIONS) {
    assert.ok(help.includes(short === undefined ? long : `${short}, ${long}`), long);
  }
  for (
    const name of [
      "MCPSTEAD_CONFIG",
      "MCPSTEAD_BEARER_TOKEN",
      "HOME",
      "PATH",
      "LOG_TOKENS",
      "LOG_STREAM",
      "token_env",
    ]
  ) {
    assert.ok(help.includes(name), name);
  }
  assert.ok(help.split("\n").every((line) => line.length <= 100), "lines fit 100 columns");
});
