import assert from "node:assert/strict";
import { countRun, formatCounts } from "../.ci/junit_counts.ts";

const COUNTS = new URL("../.ci/junit_counts.ts", import.meta.url).pathname;

/** Runs `deno test --junit-path` on `files` (name → source) and returns the report and output. */
async function testRun(files: Record<string, string>) {
  const dir = await Deno.makeTempDir();
  for (const [name, source] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, source);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-config", "--no-check", "--parallel", "--junit-path=junit.xml", "."],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  await Deno.writeTextFile(`${dir}/test.log`, decode(out.stdout) + decode(out.stderr));
  return { dir, code: out.code };
}

Deno.test("junit_counts.ts counts passed, failed and skipped tests, and a file that fails to load as failed", async () => {
  const { dir, code } = await testRun({
    "a_test.ts": [
      'Deno.test("passes", () => {});',
      'Deno.test({ name: "skipped", ignore: true, fn: () => {} });',
      'Deno.test("fails", () => { throw new Error("no"); });',
    ].join("\n"),
    "b_test.ts": 'throw new Error("cannot load");\nDeno.test("never runs", () => {});\n',
    "c_test.ts": 'Deno.test("also passes", () => {});\n',
  });
  assert.equal(code, 1);
  const xml = await Deno.readTextFile(`${dir}/junit.xml`);
  assert.ok(!xml.includes("b_test.ts"), "the load failure is missing from the JUnit report");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", COUNTS, `${dir}/junit.xml`, `${dir}/test.log`],
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "2 passed, 2 failed, 1 skipped\n");
  assert.equal(formatCounts(countRun(xml)), "2 passed, 1 failed, 1 skipped", "report alone");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("countRun() counts a file once however often the log names its uncaught error", () => {
  const log =
    "\x1b[0m./x_test.ts (uncaught error)\nerror: boom\n\n FAILURES \n\n./x_test.ts (uncaught error)\n";
  assert.deepEqual(countRun("", log), { passed: 0, failed: 1, skipped: 0 });
});
