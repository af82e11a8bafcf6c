/**
 * The gateway under the exact permission flags of README "Sandboxed runs" (no -A), and the
 * startup preflight: each missing flag fails at startup with a message naming the flag to add.
 */
import assert from "node:assert/strict";
import { startHttpFixture } from "./fixtures/http_server.ts";
import { connectClient } from "./_support/client.ts";
import { DENO_DIR, stdioUpstream, withMarker } from "./_support/procs.ts";
import { serveGateway } from "./_support/process.ts";
import { waitFor } from "./_support/wait.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TINY = new URL("./fixtures/tiny_stdio.sh", import.meta.url).pathname;
const TOKEN = "sandbox-downstream-token";
const ENV = {
  NO_COLOR: "1",
  DENO_DIR,
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  MCPSTEAD_BEARER_TOKEN: TOKEN,
  UP_TOKEN: "sandbox-upstream-token",
};

/** The README's flags, filled in: listen on port 0, one HTTP upstream, stdio commands. */
function readmeFlags(o: { config: string; upstream: string; run?: string[] }): string[] {
  const env = ["LOG_TOKENS", "LOG_STREAM", "MCPSTEAD_BEARER_TOKEN", "UP_TOKEN"];
  return [
    "--no-prompt",
    `--allow-net=127.0.0.1:0,${o.upstream}`,
    `--allow-read=${o.config}`,
    `--allow-env=${[...env, ...(o.run ? ["PATH"] : [])].join(",")}`,
    ...(o.run ? [`--allow-run=${o.run.join(",")}`] : []),
  ];
}

/** Runs `deno run <flags> main.ts --config <config> ...args` and waits until it listens. */
function sandboxed(flags: string[], config: string, args: string[] = []) {
  return serveGateway(MAIN, ["--config", config, ...args], { permissions: flags, env: ENV });
}

/** Runs the gateway under `flags` expecting it to stop at startup; returns exit code and stderr. */
async function refused(flags: string[], config: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, "--config", config, "--log-format", "json"],
    env: ENV,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function writeConfig(text: string): Promise<string> {
  const path = `${await Deno.makeTempDir()}/mcpstead.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;
const hostOf = (url: string) => new URL(url).host;
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

function httpUpstream(url: string): string {
  return `  - name: up\n    url: ${url}\n    required: true\n` +
    "    auth: {type: bearer, token_env: UP_TOKEN}\n";
}

Deno.test("sandboxed: HTTP and stdio upstreams serve initialize, list and call; --watch and reload check permissions", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const base = `port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n${httpUpstream(up.url)}${
    stdioUpstream("kid", { extra: "    required: true\n" })
  }`;
  const config = await writeConfig(base);
  const flags = readmeFlags({
    config,
    upstream: hostOf(up.url),
    run: [Deno.execPath(), TINY],
  });
  await using gateway = await sandboxed(flags, config, ["--watch"]);
  const url = `http://${gateway.address}/mcp`;
  {
    await using client = await connectClient(url, auth);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("up__echo") && names.includes("kid__echo"), names.join(","));
    const viaHttp = await client.callTool({ name: "up__echo", arguments: { text: "a" } });
    assert.equal(text(viaHttp), "up:a");
    const viaStdio = await client.callTool({ name: "kid__echo", arguments: { text: "b" } });
    assert.equal(text(viaStdio), "kid:b");
  }
  // --watch needs no more than reading the config file.
  await Deno.writeTextFile(config, `${base}  - name: tiny\n    command: ${TINY}\n`);
  await waitFor(
    async () => {
      await using client = await connectClient(url, auth);
      return (await client.listTools()).tools.some((t) => t.name === "tiny__pid");
    },
    "--watch to add tiny",
    { timeoutMs: 10_000 },
  );
  // A reload that needs a host the flags do not grant is refused, naming the flag.
  await Deno.writeTextFile(config, `${base}  - name: far\n    url: http://127.0.0.1:9/mcp\n`);
  const reload = await fetch(`http://${gateway.address}/-/reload`, {
    method: "POST",
    headers: { ...auth.headers, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(reload.status, 400);
  assert.match(
    await reload.text(),
    new RegExp(
      `^Cannot reload: missing permission: run with --allow-net=127\\.0\\.0\\.1:0,${
        hostOf(up.url).replaceAll(".", "\\.")
      },127\\.0\\.0\\.1:9 \\(needed for upstream 'far': 127\\.0\\.0\\.1:9\\)`,
    ),
  );
  assert.match(gateway.log(), /restricted --allow-run/, "the process-group warning is logged");
  assert.equal(await gateway.stop(), 0);
});

Deno.test("sandboxed: HTTP upstreams only need net, read and env", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const config = await writeConfig(
    `port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n${httpUpstream(up.url)}`,
  );
  await using gateway = await sandboxed(readmeFlags({ config, upstream: hostOf(up.url) }), config);
  await using client = await connectClient(`http://${gateway.address}/mcp`, auth);
  assert.equal(text(await client.callTool({ name: "up__echo", arguments: { text: "x" } })), "up:x");
  const health = await fetch(`http://${gateway.address}/health`);
  assert.equal(health.status, 200);
  assert.match(await (await fetch(`http://${gateway.address}/metrics`)).text(), /mcpstead_up/);
  await health.body?.cancel();
  assert.doesNotMatch(gateway.log(), /restricted --allow-run/);
});

Deno.test("sandboxed: each missing flag stops startup with the flag to add", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const upstream = hostOf(up.url);
  const config = await writeConfig(
    `port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n${httpUpstream(up.url)}` +
      `  - name: tiny\n    command: ${TINY}\n`,
  );
  const full = readmeFlags({ config, upstream, run: [TINY] });
  const replace = (prefix: string, flag: string | undefined) =>
    full.flatMap((f) => (f.startsWith(prefix) ? (flag === undefined ? [] : [flag]) : [f]));
  // The message lists every variable the config needs: the YAML parser's, the config's, PATH.
  const env = "LOG_TOKENS,LOG_STREAM,UP_TOKEN,MCPSTEAD_BEARER_TOKEN,PATH";
  const cases: [string, string[], string][] = [
    [
      "listen address",
      replace("--allow-net", `--allow-net=${upstream}`),
      `--allow-net=127.0.0.1:0,${upstream} (needed for the listen address: 127.0.0.1:0)`,
    ],
    [
      "upstream host",
      replace("--allow-net", "--allow-net=127.0.0.1:0"),
      `--allow-net=127.0.0.1:0,${upstream} (needed for upstream 'up': ${upstream})`,
    ],
    [
      "config file",
      replace("--allow-read", undefined),
      `--allow-read=${config} (needed for the config file: ${config})`,
    ],
    [
      "token variable",
      replace("--allow-env", "--allow-env=LOG_TOKENS,LOG_STREAM,MCPSTEAD_BEARER_TOKEN,PATH"),
      `--allow-env=${env} (needed for a variable the config names: UP_TOKEN)`,
    ],
    [
      "stdio command",
      replace("--allow-run", undefined),
      `--allow-run=${TINY} (needed for upstream 'tiny': ${TINY})`,
    ],
  ];
  for (const [what, flags, expected] of cases) {
    const { code, stderr } = await refused(flags, config);
    assert.equal(code, 1, `${what}: ${stderr}`);
    assert.equal(
      stderr,
      `mcpstead: Cannot start: missing permission: run with ${expected}\n`,
      what,
    );
  }
});

Deno.test("sandboxed: the flags check prints serve an inherit_env child; the listed variables alone stop startup naming --allow-env", async () => {
  const config = await writeConfig(
    `port: 0\nservers:\n  - name: tiny\n    command: ${TINY}\n    inherit_env: true\n` +
      "    required: true\n",
  );
  const check = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "check", "--config", config],
    env: ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const printed = new TextDecoder().decode(check.stdout).match(/^deno permissions: (.+)$/m)?.[1];
  assert.equal(
    printed,
    `--allow-net=127.0.0.1:0 --allow-read=${config} --allow-env --allow-run=${TINY}`,
  );
  const flags = ["--no-prompt", ...printed!.split(" ")];
  const listed = flags.map((f) => f === "--allow-env" ? "--allow-env=LOG_TOKENS,LOG_STREAM" : f);
  const { code, stderr } = await refused(listed, config);
  assert.equal(code, 1, stderr);
  assert.equal(
    stderr,
    "mcpstead: Cannot start: missing permission: run with --allow-env " +
      "(needed for inherit_env of upstream 'tiny': every variable)\n",
  );
  await using gateway = await sandboxed(flags, config);
  await using client = await connectClient(`http://${gateway.address}/mcp`);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("tiny__pid"), names.join(","));
});

Deno.test("sandboxed: under a narrow --allow-run, a stdio child that ignores SIGTERM is still stopped at shutdown", async () => {
  const marker = `stubborn-${crypto.randomUUID()}`;
  const config = await writeConfig(
    `port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n${
      stdioUpstream("stubborn", {
        marker,
        args: ["--ignore-sigterm"],
        extra: "    required: true\n",
      })
    }`,
  );
  const flags = readmeFlags({ config, upstream: "127.0.0.1:9", run: [Deno.execPath()] });
  await using gateway = await sandboxed(flags, config);
  assert.equal(withMarker(marker).length, 1, "the upstream runs");
  const stopped = await Promise.race([
    gateway.stop(),
    new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 20_000)),
  ]);
  assert.equal(stopped, 0, gateway.log());
  assert.deepEqual(withMarker(marker), [], "no upstream process is left");
});
