/**
 * What a first `deno task demo` downloads: Deno fetches every package in the lockfile of the
 * config it runs under (and `deno task` does so before it runs anything), so the gateway's own
 * `deno.json` and `deno.lock` must name only what `main.ts` imports. The tests and benchmarks
 * pin their extra packages in `tests/deno.json` and `tests/deno.lock`.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import testJson from "./deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url).pathname;

async function lockPackages(path: string): Promise<string[]> {
  const lock = JSON.parse(await Deno.readTextFile(path));
  return Object.keys(lock.npm ?? {}).sort();
}

Deno.test("deno.json and deno.lock name exactly the npm packages main.ts imports", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const packages: Record<string, { dependencies?: string[] }> =
    JSON.parse(new TextDecoder().decode(info.stdout)).npmPackages;
  const graph = Object.keys(packages).sort();
  assert.deepEqual(await lockPackages(`${ROOT}deno.lock`), graph);
  // deno.json maps what main.ts imports itself; the lock also holds what those depend on.
  const needed = new Set(Object.values(packages).flatMap((p) => p.dependencies ?? []));
  const direct = graph.filter((name) => !needed.has(name));
  const mapped = Object.values(denoJson.imports).map((s) => s.replace(/^npm:\/?/, "")).sort();
  assert.deepEqual(mapped, direct);
});

Deno.test("tests/deno.json pins the gateway's packages as deno.json does, with its compiler, fmt and lint options", async () => {
  const testImports: Record<string, string> = testJson.imports;
  for (const [name, target] of Object.entries(denoJson.imports)) {
    assert.equal(
      testImports[name],
      target,
      `tests/deno.json maps '${name}' differently`,
    );
  }
  assert.deepEqual(testJson.compilerOptions, denoJson.compilerOptions);
  assert.deepEqual(testJson.fmt.lineWidth, denoJson.fmt.lineWidth);
  assert.deepEqual(testJson.lint.rules, denoJson.lint.rules);
  const gateway = await lockPackages(`${ROOT}deno.lock`);
  const tests = await lockPackages(`${ROOT}tests/deno.lock`);
  assert.deepEqual(
    gateway.filter((p) => !tests.includes(p)),
    [],
    "the same versions in both locks",
  );
});
