/**
 * Static checks of the Dockerfile (building it takes minutes: scripts/container_smoke.sh does
 * that with podman): the build context holds every module the bundle needs, and the runtime
 * stage keeps its contract (non-root, read-only config path, health check, port, no -A).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const dockerfile = Deno.readTextFileSync(`${ROOT}Dockerfile`);
const ignore = Deno.readTextFileSync(`${ROOT}.dockerignore`);

/** Dockerfile instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile.replaceAll(/\\\n/g, " ").split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
const runtime = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")));

Deno.test("the Docker build context admits every local module of main.ts and nothing else", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(info.code, 0);
  const modules: { specifier: string }[] =
    JSON.parse(new TextDecoder().decode(info.stdout)).modules;
  const local = modules.map((m) => m.specifier).filter((s) => s.startsWith("file:"))
    .map((s) => decodeURIComponent(new URL(s).pathname).slice(ROOT.length));
  assert.ok(local.includes("src/gateway.ts"), local.join(","));
  const admitted = ignore.split("\n").filter((l) => l.startsWith("!")).map((l) => l.slice(1));
  assert.deepEqual(admitted, ["deno.json", "deno.lock", "main.ts", "src/"]);
  const copied = instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from"))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  assert.deepEqual(copied.sort(), [...admitted].sort());
  for (const file of local) {
    assert.ok(
      admitted.some((a) => (a.endsWith("/") ? file.startsWith(a) : file === a)),
      `${file} is imported by main.ts but not in the build context`,
    );
  }
});

Deno.test("the runtime stage runs the bundle as a non-root user with the config read-only", () => {
  const user = runtime.find((l) => l.startsWith("USER "));
  assert.ok(user !== undefined && !/^USER (root|0)\b/.test(user), user);
  assert.ok(runtime.includes("EXPOSE 8766"));
  const health = runtime.find((l) => l.startsWith("HEALTHCHECK "));
  assert.match(health ?? "", /"deno", "eval", .*fetch\('http:\/\/127\.0\.0\.1:8766\/health'\)/);
  const entry = JSON.parse(runtime.find((l) => l.startsWith("ENTRYPOINT "))!.slice(11));
  assert.deepEqual(entry.slice(0, 3), ["deno", "run", "--no-config"]);
  assert.ok(!entry.some((a: string) => a === "-A" || a === "--allow-all"), "no -A");
  assert.ok(entry.includes("--allow-read=/etc/mcpstead"));
  assert.equal(entry.at(-1), "/opt/mcpstead/mcpstead.js");
  const cmd = JSON.parse(runtime.find((l) => l.startsWith("CMD "))!.slice(4));
  assert.deepEqual(cmd, ["--config", "/etc/mcpstead/config.yaml"]);
  assert.match(dockerfile, /host: 0\.0\.0\.0/, "the Dockerfile explains host: 0.0.0.0");
});

Deno.test("the Dockerfile builds with the deno version .ci/run pins, checked by hash", () => {
  const pinned = /npm install -g deno@([0-9.]+)/.exec(Deno.readTextFileSync(`${ROOT}.ci/run`))?.[1];
  assert.match(dockerfile, new RegExp(`^ARG DENO_VERSION=${pinned?.replaceAll(".", "\\.")}$`, "m"));
  assert.match(dockerfile, /^ARG DENO_SHA512_X64=[0-9a-f]{128}$/m);
  assert.match(dockerfile, /^ARG DENO_SHA512_ARM64=[0-9a-f]{128}$/m);
  assert.match(dockerfile, /sha512sum -c -/);
  assert.match(dockerfile, /deno install --frozen/);
  assert.match(dockerfile, /deno bundle --platform=deno -o \/out\/mcpstead\.js main\.ts/);
});
