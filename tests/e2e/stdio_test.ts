import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { connectClient } from "../_support/client.ts";
import { healthOf, startGateway } from "../_support/gateway.ts";
import { inGroup, stdioUpstream, unreaped, withMarker } from "../_support/procs.ts";
import { waitFor } from "../_support/wait.ts";

const FAST = "    reconnect:\n      backoff_base_ms: 20\n      backoff_max_ms: 100\n";
const text = (
  result: unknown,
) => ((result as { content: Array<{ text: string }> }).content[0]!.text);

Deno.test("a crashed stdio child is restarted and its tools come back", async () => {
  const marker = crypto.randomUUID();
  await using gw = await startGateway(`servers:\n${stdioUpstream("kid", { marker, extra: FAST })}`);
  await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
  const firstPid = withMarker(marker)[0]!.pid;
  await using client = await connectClient(gw.url);
  await assert.rejects(
    client.callTool({ name: "kid__crash", arguments: {} }),
    /Upstream 'kid' process exited with code 3/,
  );
  await waitFor(
    () => gw.gateway.health().servers[0]!.connected === true && gw.gateway.catalog().size > 0,
    "restart",
    { timeoutMs: 15_000 },
  );
  const [restarted] = withMarker(marker);
  assert.ok(restarted && restarted.pid !== firstPid);
  assert.equal(
    text(await client.callTool({ name: "kid__echo", arguments: { text: "again" } })),
    "kid:again",
  );
  assert.ok(((await healthOf(gw)).servers[0]!.reconnects as number) >= 1);
  assert.deepEqual(unreaped([firstPid]), [], "the crashed child was reaped");
});

Deno.test("a stdio child that ignores SIGTERM is killed, with its whole process group", async () => {
  const marker = crypto.randomUUID();
  const lines: string[] = [];
  await using gw = await startGateway(
    `servers:\n${stdioUpstream("stubborn", { marker, args: ["--ignore-sigterm"] })}`,
    {},
    createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
  );
  await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
  const child = withMarker(marker)[0]!;
  {
    await using client = await connectClient(gw.url);
    const grandchild = Number(
      text(await client.callTool({ name: "stubborn__spawn_child", arguments: {} })),
    );
    assert.ok(
      inGroup(child.pid).some((p) => p.pid === grandchild),
      "the grandchild shares the group",
    );
  }
  await gw.close();
  assert.equal(withMarker(marker).length, 0, "the child is gone");
  await waitFor(() => inGroup(child.pid).every((p) => p.state === "Z"), "the group to be gone");
  const messages = lines.map((l) => JSON.parse(l)).map((l) => `${l.msg} ${l.line ?? ""}`.trim());
  const ignored = messages.indexOf("upstream stderr stubborn: SIGTERM ignored");
  const killed = messages.indexOf("upstream process ignored SIGTERM; killing it");
  assert.ok(ignored !== -1, `SIGTERM came first, and the child lived on: ${messages.join(" | ")}`);
  assert.ok(killed > ignored, "SIGKILL came after the grace period");
  assert.deepEqual(unreaped([child.pid]), [], "the child was reaped");
});

Deno.test("a stdio child writing garbage on stdout gets a clear error that does not quote it, and a restart", async () => {
  const marker = crypto.randomUUID();
  const lines: string[] = [];
  const config = parseConfig(
    `servers:\n${stdioUpstream("noisy", { marker, extra: FAST })}`,
    "t.yaml",
    () => undefined,
  );
  await using gateway = createGateway(config, {
    version: "t",
    log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => gateway.handler(req, {}),
  );
  try {
    await waitFor(() => gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    await using client = await connectClient(`http://127.0.0.1:${server.addr.port}/mcp`);
    await assert.rejects(client.callTool({ name: "noisy__garbage", arguments: {} }), {
      message: "MCP error -32000: Upstream 'noisy' wrote a line that is not JSON-RPC on stdout " +
        "(30 bytes)",
    });
    await waitFor(() => lines.some((l) => l.includes("garbage on stdout")), "the error log");
    await waitFor(
      () => gateway.health().servers[0]!.connected === true && gateway.catalog().size > 0,
      "restart",
      { timeoutMs: 15_000 },
    );
    assert.equal(
      text(await client.callTool({ name: "noisy__echo", arguments: { text: "ok" } })),
      "noisy:ok",
    );
    const logged = lines.map((l) => JSON.parse(l));
    assert.ok(
      logged.some((l) =>
        l.msg === "upstream stderr" && l.server === "noisy" && /stdio fixture ready/.test(l.line)
      ),
      "stderr is logged, tagged",
    );
    assert.ok(
      logged.some((l) => /not JSON-RPC on stdout/.test(String(l.error ?? ""))),
      "the reason is logged",
    );
    const quoting: string | undefined = lines.find((l) => l.includes("GARBAGE-SECRET"));
    assert.equal(quoting, undefined, "the line is logged at debug only");
  } finally {
    // As main.ts does: the gateway ends its sessions (and their GET streams) before the server stops.
    await gateway.dispose();
    await server.shutdown();
  }
});

Deno.test("a stdio child gets only PATH and its configured env, unless inherit_env is set", async () => {
  await using gw = await startGateway(
    `servers:\n${stdioUpstream("clean")}${
      stdioUpstream("full", { extra: "    inherit_env: true\n" })
    }`,
  );
  await waitFor(() => gw.gateway.catalog().size > 20, "tools", { timeoutMs: 15_000 });
  await using client = await connectClient(gw.url);
  const clean = text(await client.callTool({ name: "clean__env", arguments: {} })).split(",");
  assert.deepEqual(clean, ["DENO_DIR", "NO_COLOR", "PATH"]);
  const full = text(await client.callTool({ name: "full__env", arguments: {} })).split(",");
  assert.ok(full.includes("HOME") && full.length > 3, full.join(","));
});

Deno.test("a child's colourful download chatter is logged as a few clean lines", async () => {
  const tiny = new URL("../fixtures/tiny_stdio.sh", import.meta.url).pathname;
  const script = `i=0; while [ $i -lt 113 ]; do ` +
    `printf '\\033[0m\\033[32mDownload\\033[0m https://registry.npmjs.org/p-%s\\n' $i >&2; ` +
    `i=$((i+1)); done; printf '\\033[1mtiny\\033[0m ready\\n' >&2; exec sh ${tiny}`;
  const lines: string[] = [];
  await using _gw = await startGateway(
    `servers:\n  - name: chatty\n    command: sh\n    args: ["-c", ${JSON.stringify(script)}]\n`,
    {},
    createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }),
  );
  await waitFor(() => lines.some((l) => l.includes("tiny ready")), "the last stderr line");
  const stderr = lines.map((l) => JSON.parse(l)).filter((l) => l.msg.startsWith("upstream stderr"));
  const info = stderr.filter((l) => l.level === "info");
  // One summary, or two when the child's first answer was read between its stderr lines.
  assert.ok(info.length <= 4, JSON.stringify(info));
  assert.equal(info[0]!.line, "Download https://registry.npmjs.org/p-0");
  assert.equal(info.at(-1)!.line, "tiny ready");
  const held = info.slice(1, -1).map((l) => l.lines as number);
  assert.equal(held.reduce((a, b) => a + b, 0), 112);
  assert.equal(stderr.filter((l) => l.level === "debug").length, 112);
  assert.ok(!lines.some((l) => l.includes("\\u001b")), "no control sequences are logged");
});
