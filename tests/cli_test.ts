import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { startHttpFixture } from "./fixtures/http_server.ts";
import { connectClient } from "./_support/client.ts";
import { serveGateway } from "./_support/process.ts";
import { waitFor } from "./_support/wait.ts";
import { stdioUpstream, withMarker } from "./_support/procs.ts";
import { configFile, MAIN, runMcpstead as run } from "./_support/cli.ts";

Deno.test("mcpstead --version prints the version from deno.json", async () => {
  for (const flag of ["--version", "-V"]) {
    const { code, stdout } = await run([flag]);
    assert.equal(code, 0);
    assert.equal(stdout, `mcpstead ${denoJson.version}\n`);
  }
});

Deno.test("mcpstead --help lists the commands, routes and environment variables", async () => {
  const { code, stdout } = await run(["--help"]);
  assert.equal(code, 0);
  for (
    const word of [
      "check",
      "--config",
      "MCPSTEAD_CONFIG",
      "MCPSTEAD_BEARER_TOKEN",
      "/health",
      "Exit codes",
    ]
  ) {
    assert.ok(stdout.includes(word), word);
  }
});

Deno.test("mcpstead exits 2 on a usage error, naming the option in plain words", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown option '--bogus'"],
    [["--conifg", "x.yaml"], "unknown option '--conifg' (did you mean '--config'?)"],
    [["--config"], "--config needs a value"],
    [["--watch=yes"], "--watch takes no value"],
    [["frobnicate"], "unknown command 'frobnicate'"],
    [["--log-format", "xml"], "--log-format must be auto, json or pretty (got 'xml')"],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await run(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stderr, `mcpstead: ${message}\nRun 'mcpstead --help' for usage.\n`);
  }
});

Deno.test("mcpstead exits 1 with one line when no config can be found", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stderr } = await run([], { HOME: dir }, dir);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    "mcpstead: Cannot start: no config file found; pass --config <path> or set MCPSTEAD_CONFIG\n",
  );
});

Deno.test("mcpstead reports a config error as file:line:col and exits 1", async () => {
  const path = await configFile(
    "port: 8766\nservers:\n  - name: a\n    url: http://127.0.0.1:1/mcp\n    nmae: typo\n",
  );
  const { code, stderr } = await run(["--config", path]);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`^mcpstead: ${path}:5:5: servers\\[0\\]\\.nmae: `));
  assert.equal(stderr.trim().split("\n").length, 1);
});

Deno.test("mcpstead check validates, lists the upstreams and reports every error", async () => {
  const good = await configFile(
    "servers:\n  - name: docs\n    url: http://127.0.0.1:1/mcp\n    required: true\n",
  );
  const ok = await run(["check", "--config", good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /docs\s+http:\/\/127\.0\.0\.1:1\/mcp\s+\(auto, required, timeout 60s\)/);
  const bad = await configFile("port: -1\nservers:\n  - name: a__b\n    url: x\n");
  const failed = await run(["check", "--config", bad]);
  assert.equal(failed.code, 1);
  assert.ok(failed.stderr.trim().split("\n").length >= 3, failed.stderr);
});

Deno.test("mcpstead check prints upstream URLs without their user information or query values", async () => {
  const path = await configFile(
    "servers:\n  - name: a\n    url: http://bob:pw-secret@127.0.0.1:1/mcp?api_key=k-secret\n" +
      "  - name: b\n    openapi: https://docs.example/api.json?sig=s-secret\n",
  );
  const { code, stdout } = await run(["check", "--config", path]);
  assert.equal(code, 0);
  assert.match(stdout, /a\s+http:\/\/\*\*\*@127\.0\.0\.1:1\/mcp\?api_key=\*\*\*\s/);
  assert.match(stdout, /b\s+https:\/\/docs\.example\/api\.json\?sig=\*\*\*\s/);
  assert.doesNotMatch(stdout, /bob|secret/);
});

Deno.test("--config wins over MCPSTEAD_CONFIG, which wins over ./mcpstead.yaml", async () => {
  const fromEnv = await configFile(
    "servers:\n  - name: fromenv\n    url: http://127.0.0.1:1/mcp\n",
  );
  const fromFlag = await configFile(
    "servers:\n  - name: fromflag\n    url: http://127.0.0.1:1/mcp\n",
  );
  const cwdConfig = await configFile(
    "servers:\n  - name: fromcwd\n    url: http://127.0.0.1:1/mcp\n",
  );
  const cwd = cwdConfig.slice(0, cwdConfig.lastIndexOf("/"));
  assert.match(
    (await run(["check", "--config", fromFlag], { MCPSTEAD_CONFIG: fromEnv }, cwd)).stdout,
    /fromflag/,
  );
  assert.match((await run(["check"], { MCPSTEAD_CONFIG: fromEnv }, cwd)).stdout, /fromenv/);
  assert.match((await run(["check"], { HOME: cwd }, cwd)).stdout, /fromcwd/);
});

Deno.test("bearer mode without MCPSTEAD_BEARER_TOKEN fails at startup", async () => {
  const path = await configFile("mcp:\n  auth:\n    mode: bearer\n");
  const { code, stderr } = await run(["--config", path]);
  assert.equal(code, 1);
  assert.match(stderr, /MCPSTEAD_BEARER_TOKEN/);
});

Deno.test("a non-loopback bind without auth is refused at startup and by check unless declared", async () => {
  const path = await configFile("host: 0.0.0.0\nport: 0\n");
  const start = await run(["--config", path]);
  assert.equal(start.code, 1);
  assert.match(
    start.stderr,
    /^mcpstead: Cannot start: host '0\.0\.0\.0' accepts connections from other machines and mcp\.auth\.mode is 'none'.*mcp\.allow_unauthenticated_remote: true/,
  );
  assert.doesNotMatch(start.stderr, /listening/);
  const check = await run(["check", "--config", path]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /Cannot start: host '0\.0\.0\.0' accepts connections/);
  const declared = await configFile(
    "host: 0.0.0.0\nport: 0\nmcp:\n  allow_unauthenticated_remote: true\n",
  );
  assert.equal((await run(["check", "--config", declared])).code, 0);
});

Deno.test("a required upstream that cannot connect stops startup with exit 1", async () => {
  const path = await configFile(
    "port: 0\nservers:\n  - name: must\n    url: http://127.0.0.1:9/mcp\n    required: true\n",
  );
  const { code, stderr } = await run(["--config", path]);
  assert.equal(code, 1);
  assert.match(stderr, /^mcpstead: Cannot start: required upstream 'must' did not connect/m);
});

Deno.test("mcpstead serves tools, logs JSON lines and exits 0 on SIGTERM", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const path = await configFile(
    `port: 0\nservers:\n  - name: up\n    url: ${up.url}\n    required: true\n`,
  );
  await using gateway = await serveGateway(MAIN, ["--config", path]);
  for (const line of gateway.log().trim().split("\n")) {
    assert.doesNotThrow(() => JSON.parse(line), line);
  }
  {
    await using client = await connectClient(`http://${gateway.address}/mcp`);
    const result = await client.callTool({ name: "up__echo", arguments: { text: "cli" } });
    assert.equal((result.content as Array<{ text: string }>)[0]!.text, "up:cli");
  }
  assert.equal(await gateway.stop(), 0);
});

Deno.test("config.example.yaml is valid and serves real tools (the README quick start)", async () => {
  const example = new URL("../config.example.yaml", import.meta.url).pathname;
  const checked = await run(["check", "--config", example]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /everything\s+deno\s+\(stdio, optional, timeout 60s\)/);
  const path = await configFile(
    (await Deno.readTextFile(example)).replace(/^port: 8766/m, "port: 0"),
  );
  const lock = await Deno.readTextFile(new URL("../deno.lock", import.meta.url));
  await using gateway = await serveGateway(MAIN, ["--config", path]);
  // The first start may download server-everything from the npm registry.
  await waitFor(
    async () =>
      (await (await fetch(`http://${gateway.address}/health`)).json()).servers[0].connected,
    "server-everything to connect",
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  {
    await using client = await connectClient(`http://${gateway.address}/mcp`);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("everything__echo"), names.join(","));
    const echo = await client.callTool({
      name: "everything__echo",
      arguments: { message: "quick start" },
    });
    assert.match(JSON.stringify(echo.content), /quick start/);
    await assert.rejects(
      client.callTool({ name: "everything__get-env", arguments: {} }),
      /Unknown tool: 'everything__get-env'/,
      "no client can read the demo child's environment",
    );
  }
  const after = await Deno.readTextFile(new URL("../deno.lock", import.meta.url));
  assert.equal(after, lock, "the demo's child leaves the gateway's deno.lock alone");
  assert.equal(await gateway.stop(), 0);
});

Deno.test("mcpstead import prints YAML that mcpstead check accepts", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/claude.json`,
    JSON.stringify({ mcpServers: { fs: { command: "npx", args: ["-y", "fs"] } } }),
  );
  const imported = await run(["import", `${dir}/claude.json`]);
  assert.equal(imported.code, 0, imported.stderr);
  await Deno.writeTextFile(`${dir}/mcpstead.yaml`, imported.stdout);
  const checked = await run(["check", "--config", `${dir}/mcpstead.yaml`]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /fs\s+npx\s+\(stdio/);
  const missing = await run(["import"]);
  assert.equal(missing.code, 2);
});

Deno.test("SIGTERM lets a call in flight finish, refuses new sessions with 503, and leaves no child", async () => {
  await using up = await startHttpFixture({ name: "up" });
  const marker = crypto.randomUUID();
  const path = await configFile(
    `port: 0\nmcp:\n  session:\n    shutdown_grace_seconds: 10\nservers:\n  - name: up\n    url: ${up.url}\n    required: true\n${
      stdioUpstream("kid", { marker, extra: "    required: true\n" })
    }`,
  );
  await using gateway = await serveGateway(MAIN, ["--config", path]);
  assert.equal(withMarker(marker).length, 1, "the stdio child runs");
  await using client = await connectClient(`http://${gateway.address}/mcp`);
  const inFlight = client.callTool({ name: "up__slow", arguments: { ms: 3000 } }).then(
    (r) => (r.content as Array<{ text: string }>)[0]!.text,
    (e) => `failed: ${e}`,
  );
  await waitFor(() => up.executions.get("slow") === 1, "the call to reach the upstream");
  gateway.child.kill("SIGTERM");
  await waitFor(() => gateway.log().includes('"msg":"shutting down"'), "the shutdown to begin");
  const late = await fetch(`http://${gateway.address}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }),
  });
  assert.equal(late.status, 503);
  await late.body?.cancel();
  assert.equal(await inFlight, "slow:3000");
  assert.equal(await gateway.exited(), 0, "exits 0 on its own after the drain");
  assert.equal(withMarker(marker).length, 0, "no child left");
});

Deno.test("SIGHUP and --watch reload the config file", async () => {
  await using a = await startHttpFixture({ name: "a" });
  await using b = await startHttpFixture({ name: "b" });
  const one = `port: 0\nservers:\n  - name: a\n    url: ${a.url}\n`;
  const two = `${one}  - name: b\n    url: ${b.url}\n`;
  const names = async (address: string) =>
    (await (await fetch(`http://${address}/health`)).json()).servers.map((s: { name: string }) =>
      s.name
    ).join(",");

  const path = await configFile(one);
  await using hup = await serveGateway(MAIN, ["--config", path]);
  await Deno.writeTextFile(path, two);
  hup.child.kill("SIGHUP");
  await waitFor(async () => (await names(hup.address)) === "a,b", "SIGHUP to add b");
  assert.equal(await hup.stop(), 0);

  const watched = await configFile(one);
  await using gateway = await serveGateway(MAIN, ["--config", watched, "--watch"]);
  await Deno.writeTextFile(watched, two);
  await waitFor(async () => (await names(gateway.address)) === "a,b", "--watch to add b");
  await Deno.writeTextFile(watched, "servers: [\n");
  await waitFor(
    () => gateway.log().includes("config reload failed; keeping the running config"),
    "--watch to read the broken file",
  );
  assert.equal(await names(gateway.address), "a,b", "a broken file keeps the running config");
  assert.equal(await gateway.stop(), 0);
});

Deno.test("mcpstead openapi prints the REST API document of every connected upstream's tools", async () => {
  await using fixture = await startHttpFixture({ name: "up" });
  const path = await configFile(
    `servers:\n  - name: up\n    url: ${fixture.url}\n  - name: down\n    url: http://127.0.0.1:9/mcp\n    timeout: 1\n`,
  );
  const { code, stdout, stderr } = await run(["openapi", "--config", path]);
  assert.equal(code, 0, stderr);
  const document = JSON.parse(stdout);
  assert.equal(document.openapi, "3.1.0");
  assert.equal(document.paths["/api/tools/up__echo"].post.operationId, "up__echo");
  assert.ok(Object.keys(document.paths).every((p) => p.startsWith("/api/tools/up__")));
  assert.match(stderr, /upstream 'down' is not connected .*its tools are left out/);
});
