import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { compileArgs, TARGETS } from "../../scripts/compile.ts";
import { requireTool } from "../_support/tools.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/release.yml"];

const read = (path: string) => Deno.readTextFileSync(`${ROOT}${path}`);

Deno.test(requireTool(["actionlint", "shellcheck"], {
  name: "actionlint (with shellcheck) finds no problem in the CI and release workflows",
  fn: async ({ actionlint }) => {
    const run = (files: string[], cwd = ROOT) =>
      new Deno.Command(actionlint, {
        args: ["-no-color", ...files],
        cwd,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const out = await run(WORKFLOWS);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.equal(text, "");
    // The same linter on a broken copy fails, so a pass above means something.
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/.github/workflows`, { recursive: true });
    const broken = read(WORKFLOWS[1]!).replace("${{ github.ref_name }}", "${{ github.nope }}")
      .replace('"$GITHUB_OUTPUT"', "$GITHUB_OUTPUT");
    await Deno.writeTextFile(`${dir}/.github/workflows/release.yml`, broken);
    const bad = await run([".github/workflows/release.yml"], dir);
    const report = new TextDecoder().decode(bad.stdout);
    assert.equal(bad.code, 1, report);
    assert.match(report, /property "nope" is not defined/);
    assert.match(report, /SC2086/, "shellcheck checks the run: scripts");
  },
}));

Deno.test("every deno task the workflows (and .ci/run, which ci.yml runs) name exists in deno.json", () => {
  const tasks = Object.keys(denoJson.tasks);
  const named = new Set<string>();
  for (const file of [...WORKFLOWS, ".ci/run"]) {
    for (const match of read(file).matchAll(/\bdeno task ([A-Za-z0-9:_-]+)/g)) named.add(match[1]!);
  }
  assert.ok(named.has("compile"), "release.yml compiles with deno task compile");
  for (const task of named) {
    assert.ok(tasks.includes(task), `deno task ${task} is not in deno.json`);
  }
  assert.match(read(WORKFLOWS[0]!), /run: bash \.ci\/run/);
});

Deno.test("release.yml archives, smoke-tests and pins what compile.ts and .ci/run use", () => {
  const release = read(WORKFLOWS[1]!);
  for (const target of TARGETS) {
    assert.match(release, new RegExp(`target: ${target} \\}`), `smoke job for ${target}`);
    assert.ok(release.includes(target), target);
  }
  const loop = /for target in ([^;]+);/.exec(release.replaceAll("\\\n", " "))?.[1];
  assert.deepEqual(loop?.trim().split(/\s+/), [...TARGETS], "the archive loop covers every target");
  assert.ok(release.includes('"release/mcpstead-$VERSION-$target.tar.gz"'));
  assert.ok(release.includes("sha256sum -- *.tar.gz > SHA256SUMS"));
  assert.ok(release.includes('install -m 755 "dist/mcpstead-$target"'));
  assert.deepEqual(compileArgs(TARGETS[0]!).slice(-3), [
    "--output",
    `dist/mcpstead-${TARGETS[0]}`,
    "main.ts",
  ]);
  const pinned = /npm install -g deno@([0-9.]+)/.exec(read(".ci/run"))?.[1];
  for (const file of WORKFLOWS) {
    for (const match of read(file).matchAll(/deno-version: v([0-9.]+)/g)) {
      assert.equal(match[1], pinned, `${file} sets up the deno that .ci/run installs`);
    }
  }
});

Deno.test("scripts/compile.ts --dry-run prints one deno compile per target with the baked flags", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-write=dist", "--allow-run", "scripts/compile.ts", "--dry-run"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.deepEqual(
    lines,
    TARGETS.map((t) =>
      `deno compile --allow-net --allow-read --allow-env --allow-run --target ${t} ` +
      `--output dist/mcpstead-${t} main.ts`
    ),
  );
});
