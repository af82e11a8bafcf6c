/** What an upstream's configuration or output could leak: URL credentials, the gateway's secrets. */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { serveGateway } from "../_support/process.ts";
import { DENO_DIR, stdioUpstream } from "../_support/procs.ts";
import { waitFor } from "../_support/wait.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

const FAST_RECONNECT = "    reconnect:\n      backoff_base_ms: 50\n      backoff_max_ms: 200\n";

Deno.test("URL credentials of an upstream never reach /health, client errors or the log", async () => {
  const secrets = ["alice", "pa55word-x", "SECRETKEY1"];
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) });
  const up = await startHttpFixture({ name: "up" });
  const url = `http://alice:pa55word-x@127.0.0.1:${up.port}/mcp?api_key=SECRETKEY1&v=2`;
  await using gw = await startGateway(`servers:\n${upstream("up", url, FAST_RECONNECT)}`, {}, log);
  await waitFor(() => gw.gateway.catalog().size > 0, "tools");
  await using client = await connectClient(gw.url);
  await up.close();
  const error = await client.callTool({ name: "up__echo", arguments: { text: "x" } }).then(
    () => undefined,
    (error: Error) => error,
  );
  assert.ok(error, "the call failed");
  await waitFor(() => gw.gateway.health().servers[0]!.last_error !== null, "the outage");
  const health = await (await fetch(`${gw.base}/health`)).text();
  assert.match(health, /"url":"http:\/\/\*\*\*@127\.0\.0\.1:\d+\/mcp\?api_key=\*\*\*&v=\*\*\*"/);
  assert.match(health, /"last_error":"Cannot reach upstream 'up'[^"]*api_key=\*\*\*/);
  await waitFor(() => lines.some((l) => l.includes("upstream unavailable")), "the warning");
  for (const secret of secrets) {
    assert.ok(!error.message.includes(secret), `the client's error shows ${secret}`);
    assert.ok(!health.includes(secret), `/health shows ${secret}`);
    const leaking: string | undefined = lines.find((l) => l.includes(secret));
    assert.equal(leaking, undefined, `a log line shows ${secret}`);
  }
});

Deno.test("a stdio child with inherit_env gets the environment without the gateway's secrets", async () => {
  const config = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    config,
    `port: 0\nmcp:\n  auth: { mode: bearer }\nservers:\n` +
      `  - name: up\n    url: http://127.0.0.1:1/mcp\n` +
      `    auth: { type: bearer, token_env: UP_TOKEN }\n    headers: { X-Key: "\${HDR_SECRET}" }\n` +
      stdioUpstream("kid", { extra: `    inherit_env: true\n` }).replace(
        "      NO_COLOR",
        `      OWN: "\${CHILD_VAR}"\n      NO_COLOR`,
      ),
  );
  await using gateway = await serveGateway(MAIN, ["--config", config], {
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      DENO_DIR,
      MCPSTEAD_BEARER_TOKEN: "gw-token-1",
      UP_TOKEN: "up-token-1",
      HDR_SECRET: "hdr-secret-1",
      CHILD_VAR: "child-value",
      HARMLESS: "1",
    },
  });
  const headers = { authorization: "Bearer gw-token-1" };
  await using client = await connectClient(`http://${gateway.address}/mcp`, { headers });
  await waitFor(async () => (await client.listTools()).tools.length > 0, "tools", {
    timeoutMs: 15_000,
    intervalMs: 100,
  });
  const names = text(await client.callTool({ name: "kid__env", arguments: {} })).split(",");
  assert.ok(names.includes("HARMLESS") && names.includes("OWN"), names.join(","));
  for (const secret of ["MCPSTEAD_BEARER_TOKEN", "UP_TOKEN", "HDR_SECRET", "CHILD_VAR"]) {
    assert.ok(!names.includes(secret), `the child inherited ${secret}`);
  }
});
