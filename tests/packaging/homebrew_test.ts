import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { TARGETS } from "../../scripts/compile.ts";
import { requireTool } from "../_support/tools.ts";

const FORMULA = new URL("../../packaging/homebrew/mcpstead.rb", import.meta.url).pathname;
const STUB = new URL("./formula_stub.rb", import.meta.url).pathname;
const UPDATE = new URL("../../scripts/update_formula.ts", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Homebrew's platform blocks and the release target each one downloads. */
const PLATFORMS: Record<string, string> = {
  "macos/arm": "aarch64-apple-darwin",
  "macos/intel": "x86_64-apple-darwin",
  "linux/arm": "aarch64-unknown-linux-gnu",
  "linux/intel": "x86_64-unknown-linux-gnu",
};

interface Loaded {
  name: string;
  version: string;
  license: string;
  homepage: string;
  platforms: Record<string, { url: string; sha256: string }>;
  install: boolean;
  test: boolean;
}

async function run(command: string, args: string[], cwd?: string) {
  const out = await new Deno.Command(command, {
    args,
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function load(ruby: string, formula: string): Promise<Loaded> {
  const out = await run(ruby, [STUB, formula]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

Deno.test(requireTool(["ruby"], {
  name: "the Homebrew formula is valid Ruby and downloads the release archive of each platform",
  fn: async ({ ruby }) => {
    for (const file of [FORMULA, STUB]) {
      const syntax = await run(ruby, ["-c", file]);
      assert.equal(syntax.code, 0, syntax.stderr);
      assert.equal(syntax.stdout.trim(), "Syntax OK");
    }
    const formula = await load(ruby, FORMULA);
    assert.equal(formula.name, "Mcpstead");
    assert.equal(formula.version, denoJson.version);
    assert.equal(formula.license, "MIT");
    assert.ok(formula.install && formula.test, "install and test blocks");
    assert.deepEqual(Object.keys(formula.platforms).sort(), Object.keys(PLATFORMS).sort());
    const v = denoJson.version.replaceAll(".", "\\.");
    for (const [platform, { url, sha256 }] of Object.entries(formula.platforms)) {
      const target = PLATFORMS[platform]!;
      assert.match(
        url,
        new RegExp(
          `^https://github\\.com/[A-Za-z0-9-]+/mcpstead/releases/download/v${v}/mcpstead-${v}-${target}\\.tar\\.gz$`,
        ),
        platform,
      );
      assert.match(sha256, /^[0-9a-f]{64}$/, platform);
    }
    assert.deepEqual(Object.values(PLATFORMS).sort(), [...TARGETS].sort(), "the compiled targets");
  },
}));

Deno.test(requireTool(["ruby"], {
  name: "update_formula.ts sets version, urls and each platform's sha256 from SHA256SUMS",
  fn: async ({ ruby }) => {
    const dir = await Deno.makeTempDir();
    const formula = `${dir}/mcpstead.rb`;
    await Deno.copyFile(FORMULA, formula);
    const sha = (target: string) =>
      [...target].reduce((h, c) => h + c.charCodeAt(0), 0)
        .toString(16).padStart(64, "a");
    const sums = TARGETS.map((t) => `${sha(t)}  mcpstead-9.8.7-${t}.tar.gz`).join("\n");
    await Deno.writeTextFile(`${dir}/SHA256SUMS`, `${sums}\n`);
    const args = ["run", "--allow-read", "--allow-write", UPDATE, "--version", "9.8.7"];
    const sumsFlag = ["--sums", `${dir}/SHA256SUMS`];
    const ok = await run(Deno.execPath(), [
      ...args,
      "--repo",
      "acme/mcpstead",
      ...sumsFlag,
      formula,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const updated = await load(ruby, formula);
    assert.equal(updated.version, "9.8.7");
    assert.equal(updated.homepage, "https://github.com/acme/mcpstead");
    for (const [platform, target] of Object.entries(PLATFORMS)) {
      assert.deepEqual(updated.platforms[platform], {
        url:
          `https://github.com/acme/mcpstead/releases/download/v9.8.7/mcpstead-9.8.7-${target}.tar.gz`,
        sha256: sha(target),
      });
    }
    await Deno.writeTextFile(`${dir}/SHA256SUMS`, sums.split("\n").slice(1).join("\n"));
    const missing = await run(Deno.execPath(), [...args, "--repo", "a/b", ...sumsFlag, formula]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /SHA256SUMS has no mcpstead-9\.8\.7-x86_64-unknown-linux-gnu/);
  },
}));

Deno.test(requireTool(["ruby"], {
  name: "the formula's install and test blocks install the binary and completions and pass",
  fn: async ({ ruby }) => {
    const dir = await Deno.makeTempDir();
    const unpacked = `${dir}/archive`;
    await Deno.mkdir(unpacked);
    // Stands in for the compiled binary of the release archive.
    await Deno.writeTextFile(
      `${unpacked}/mcpstead`,
      `#!/bin/sh\nexec ${JSON.stringify(Deno.execPath())} run -A ${JSON.stringify(MAIN)} "$@"\n`,
      { mode: 0o755 },
    );
    const out = await run(ruby, [STUB, FORMULA, "--install", unpacked, `${dir}/prefix`]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), "ok");
    assert.ok(Deno.statSync(`${dir}/prefix/bin/mcpstead`).isFile);
    const fish = await Deno.readTextFile(
      `${dir}/prefix/share/fish/vendor_completions.d/mcpstead.fish`,
    );
    assert.match(fish, /complete -c mcpstead/);
    const broken = `${dir}/broken`;
    await Deno.mkdir(broken);
    await Deno.writeTextFile(`${broken}/mcpstead`, "#!/bin/sh\necho mcpstead 0.0.0\n", {
      mode: 0o755,
    });
    const failed = await run(ruby, [STUB, FORMULA, "--install", broken, `${dir}/prefix2`]);
    assert.notEqual(failed.code, 0, "the test block fails on a wrong version");
    assert.match(failed.stderr, /expected "mcpstead 0\.0\.0[^"]*" to match "mcpstead \d/);
  },
}));
