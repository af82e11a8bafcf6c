import assert from "node:assert/strict";
import { DENO_DIR } from "./_support/procs.ts";

const TOOLS = new URL("./_support/tools.ts", import.meta.url).href;

/** Runs a one-test file that needs `tool`, with CI set to `ci` (or unset), and returns its output. */
async function runNeeding(tool: string, ci: string | undefined) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/needs_test.ts`;
  await Deno.writeTextFile(
    file,
    `import { requireTool } from ${JSON.stringify(TOOLS)};\n` +
      `Deno.test(requireTool([${JSON.stringify(tool)}], {\n` +
      `  name: "uses the tool",\n` +
      `  fn: (tools) => void console.log("ran with", tools[${JSON.stringify(tool)}]),\n` +
      `}));\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-config", "--no-check", "-A", file],
    env: {
      PATH: `${Deno.env.get("PATH")}`,
      DENO_DIR,
      NO_COLOR: "1",
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
