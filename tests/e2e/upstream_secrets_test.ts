/** What an upstream's configuration or output could leak: URL credentials, the gateway's secrets. */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { waitFor } from "../_support/wait.ts";

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
