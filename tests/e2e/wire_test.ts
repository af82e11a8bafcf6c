import assert from "node:assert/strict";
import { startGateway } from "../_support/gateway.ts";
import { serveGateway } from "../_support/process.ts";
import { RawClient, splitResponses } from "../_support/raw_http.ts";
import { waitFor } from "../_support/wait.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("a Host header with a path does not choose the route: POST /health with Host '…/-/reload?' is 400, no reload", async () => {
  await using gw = await startGateway("servers: []\n");
  const port = new URL(gw.base).port;
  using client = await RawClient.open(Number(port));
  await client.send(
    `POST /health HTTP/1.1\r\nHost: 127.0.0.1:${port}/-/reload?\r\n` +
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
  );
  const text = await client.readToEnd();
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(text, /is not a host name or address with an optional port/);
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.doesNotMatch(metrics, /mcpstead_config_reloads_total\{result="success"\} [1-9]/);
});

Deno.test("mcpstead applies mcp.limits.header_timeout_seconds and max_connections on its socket", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/c.yaml`,
    "port: 0\nmcp:\n  limits:\n    header_timeout_seconds: 1\n    max_connections: 2\nservers: []\n",
  );
  await using gateway = await serveGateway(MAIN, ["--config", `${dir}/c.yaml`]);
  const port = Number(gateway.address.split(":").pop());
  using slow = await RawClient.open(port);
  const started = Date.now();
  await slow.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  using other = await RawClient.open(port);
  using third = await RawClient.open(port);
  const refused = await third.readToEnd();
  assert.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(refused, /mcp\.limits\.max_connections/);
  const timedOut = await slow.readToEnd(5000);
  assert.match(timedOut, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms`);
  assert.match(
    await other.readToEnd(5000),
    /^HTTP\/1\.1 408 /,
    "a silent connection times out too",
  );
  using fresh = await RawClient.open(port);
  await fresh.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  assert.equal(splitResponses(await fresh.readResponses(1))[0]!.status, 200);
  await waitFor(() => gateway.log().includes("max_connections"), "the refusal to be logged");
  await Deno.remove(dir, { recursive: true });
});
