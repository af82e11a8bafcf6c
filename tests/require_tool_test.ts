import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { DENO_DIR } from "./_support/procs.ts";

const TOOLS = new URL("./_support/tools.ts", import.meta.url).href;
const PY_CLIENT = new URL("./_support/py_client.ts", import.meta.url).href;

/**
 * Runs a test file holding `source`, with CI set to `ci` (or unset) and `env`, and returns its
 * output.
 */
async function runTestFile(source: string, ci: string | undefined, env: Record<string, string>) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/needs_test.ts`;
  await Deno.writeTextFile(file, source);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-config", "--no-check", "-A", file],
    env: {
      PATH: `${Deno.env.get("PATH")}`,
      DENO_DIR,
      NO_COLOR: "1",
      ...env,
      ...(ci === undefined ? {} : { CI: ci }),
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

/** Runs a one-test file that needs `tool`, with CI set to `ci` (or unset), and returns its output. */
function runNeeding(tool: string, ci: string | undefined) {
  return runTestFile(
    `import { requireTool } from ${JSON.stringify(TOOLS)};\n` +
      `Deno.test(requireTool([${JSON.stringify(tool)}], {\n` +
      `  name: "uses the tool",\n` +
      `  fn: (tools) => void console.log("ran with", tools[${JSON.stringify(tool)}]),\n` +
      `}));\n`,
    ci,
    {},
  );
}

/** Runs a one-test file that needs the Python SDK venv at `venv`, with CI set to `ci` (or unset). */
function runNeedingPython(venv: string, ci: string | undefined) {
  return runTestFile(
    `import { pythonMcp, requirePython } from ${JSON.stringify(PY_CLIENT)};\n` +
      `const python = await pythonMcp("uses python");\n` +
      `Deno.test({\n` +
      `  name: "uses python",\n` +
      `  ignore: python.ignore,\n` +
      `  fn: () => void console.log("ran with", requirePython(python)),\n` +
      `});\n`,
    ci,
    { MCPSTEAD_PY_MCP_VENV: venv },
  );
}

Deno.test("requireTool() skips a test whose tool is missing, saying which and why, when CI is unset or empty", async () => {
  for (const ci of [undefined, ""]) {
    const { code, output } = await runNeeding("no-such-tool-mcpstead", ci);
    assert.equal(code, 0, output);
    assert.match(
      output,
      /skipped: "uses the tool": no-such-tool-mcpstead is not on PATH \(install: a package that provides no-such-tool-mcpstead\); with CI set it fails instead/,
    );
    assert.match(output, /uses the tool \.\.\. ignored/);
  }
});

Deno.test("requireTool() fails a test whose tool is missing when CI is set", async () => {
  const { code, output } = await runNeeding("no-such-tool-mcpstead", "true");
  assert.equal(code, 1, output);
  assert.match(output, /uses the tool \.\.\. FAILED/);
  assert.match(output, /Cannot run with CI set: no-such-tool-mcpstead is not on PATH/);
});

Deno.test("requireTool() runs the test with the tool's path when it is on PATH", async () => {
  const { code, output } = await runNeeding("sh", undefined);
  assert.equal(code, 0, output);
  assert.match(output, /ran with \/\S*\/sh\n/);
  assert.match(output, /uses the tool \.\.\. ok/);
});

Deno.test("the Python SDK venv follows the same rule: skipped saying why and how to create it, or failing with CI set", async () => {
  const venv = `${await Deno.makeTempDir()}/no-venv`;
  const why = `the Python SDK venv is missing: cannot run ${venv}/bin/python: [^;]*` +
    ` \\(create it: python3 -m venv ${venv} && ${venv}/bin/pip install mcp==2\\.3\\.0\\)`;
  for (const ci of [undefined, ""]) {
    const { code, output } = await runNeedingPython(venv, ci);
    assert.equal(code, 0, output);
    assert.match(
      output,
      new RegExp(`skipped: "uses python": ${why}; with CI set it fails instead`),
    );
    assert.match(output, /uses python \.\.\. ignored/);
  }
  const failed = await runNeedingPython(venv, "1");
  assert.equal(failed.code, 1, failed.output);
  assert.match(failed.output, /uses python \.\.\. FAILED/);
  assert.match(failed.output, new RegExp(`Cannot run with CI set: ${why}`));
  await Deno.mkdir(`${venv}/bin`, { recursive: true });
  await Deno.writeTextFile(`${venv}/bin/python`, "#!/bin/sh\necho 2.3.0\n", { mode: 0o755 });
  const found = await runNeedingPython(venv, "1");
  assert.equal(found.code, 0, found.output);
  assert.match(found.output, new RegExp(`ran with ${venv}/bin/python\n`));
  assert.doesNotMatch(found.output, /skipped/);
});

Deno.test("every program a test asks requireTool() for has its row in the README's table of skipped tests", async () => {
  const root = new URL("../", import.meta.url);
  const asked = new Set<string>();
  for (const path of readdirSync(new URL("tests/", root), { recursive: true })) {
    if (!String(path).endsWith(".ts")) continue;
    const source = await Deno.readTextFile(new URL(`tests/${path}`, root));
    for (const [, list] of source.matchAll(/requireTool\(\s*\[([^\]]*)\]/g)) {
      for (const [, tool] of list!.matchAll(/"([^"]+)"/g)) asked.add(tool!);
    }
  }
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const table = readme.slice(
    readme.indexOf("| program "),
    readme.indexOf("\n\n", readme.indexOf("| program ")),
  );
  const listed = new Set(
    [...table.matchAll(/^\| ([^|]+)\|/gm)].flatMap(([, cell]) =>
      [...cell!.matchAll(/`([^`]+)`/g)].map(([, name]) => name!)
    ),
  );
  assert.ok(asked.size >= 10, `found only ${[...asked]}`);
  assert.deepEqual([...asked].filter((tool) => !listed.has(tool)).sort(), []);
});
