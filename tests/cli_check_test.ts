import assert from "node:assert/strict";
import { startHttpFixture } from "./fixtures/http_server.ts";
import { connectClient } from "./_support/client.ts";
import { configFile, runMcpstead } from "./_support/cli.ts";
import { stdioUpstream } from "./_support/procs.ts";

Deno.test("mcpstead check fails for a stdio command that is not on PATH or not executable", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/not-executable.sh`, "#!/bin/sh\n");
  const path = await configFile(
    "servers:\n" +
      "  - name: time\n    command: uvx-missing-mcpstead\n    args: [mcp-server-time]\n" +
      `  - name: here\n    command: ./not-executable.sh\n    cwd: ${dir}\n` +
      `  - name: ok\n    command: sh\n`,
  );
  const { code, stdout, stderr } = await runMcpstead(["check", "--config", path]);
  assert.equal(code, 1, stdout);
  assert.equal(
    stderr,
    `mcpstead: ${path}: servers[0].command: Cannot run 'uvx-missing-mcpstead': not found on PATH ` +
      `(${
        (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "").length
      } directories searched)\n` +
      `mcpstead: ${path}: servers[1].command: Cannot run './not-executable.sh': no executable file there\n`,
  );
});

Deno.test("mcpstead check looks a command up on the PATH its env gives the child", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/my-server`, "#!/bin/sh\n", { mode: 0o755 });
  const path = await configFile(
    `servers:\n  - name: mine\n    command: my-server\n    env:\n      PATH: ${dir}\n`,
  );
  const { code, stderr } = await runMcpstead(["check", "--config", path]);
  assert.equal(code, 0, stderr);
});

Deno.test("mcpstead check --connect reaches every upstream and prints server, transport, era, tools, time and error", async () => {
  await using up = await startHttpFixture({ name: "up" });
  let tools: number;
  {
    await using client = await connectClient(up.url);
    tools = (await client.listTools()).tools.length;
  }
  const reachable = await configFile(
    `servers:\n  - name: up\n    url: ${up.url}\n${stdioUpstream("kid")}`,
  );
  const ok = await runMcpstead(["check", "--connect", "--config", reachable]);
  assert.equal(ok.code, 0, ok.stderr);
  const table = ok.stdout.slice(ok.stdout.indexOf("server  "));
  const lines = table.trimEnd().split("\n");
  assert.match(lines[0]!, /^server\s+transport\s+era\s+tools\s+time\s+error$/);
  assert.match(lines[1]!, new RegExp(`^up\\s+streamable\\s+legacy\\s+${tools}\\s+\\d+\\.\\d s$`));
  assert.match(lines[2]!, /^kid\s+stdio\s+legacy\s+\d+\s+\d+\.\d s$/);
  assert.equal(lines.length, 3);

  const down = await configFile(
    `servers:\n  - name: up\n    url: ${up.url}\n  - name: gone\n    url: http://127.0.0.1:9/mcp\n`,
  );
  const failed = await runMcpstead(["check", "--connect", "--config", down]);
  assert.equal(failed.code, 1, failed.stdout);
  assert.match(
    failed.stdout,
    /\ngone\s+auto\s+legacy\s+0\s+\d+\.\d s\s+Cannot reach upstream 'gone': /,
  );
});

Deno.test("--connect outside check is a usage error", async () => {
  const { code, stderr } = await runMcpstead(["--connect"]);
  assert.equal(code, 2);
  assert.equal(
    stderr,
    "mcpstead: --connect applies to check only: mcpstead check --connect\n" +
      "Run 'mcpstead --help' for usage.\n",
  );
});
