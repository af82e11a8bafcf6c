import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startRawFixture } from "../fixtures/raw_server.ts";
import { connectClient } from "../_support/client.ts";
import { ToolListChangedNotificationSchema } from "../_support/sdk.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { spawnFixture } from "../_support/process.ts";
import { waitFor } from "../_support/wait.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";

const FAST_RECONNECT = "    reconnect:\n      backoff_base_ms: 50\n      backoff_max_ms: 200\n";

Deno.test("an upstream killed mid-call fails the call at once, not at the client's timeout", async () => {
  await using child = await spawnFixture(["--name", "kid"]);
  await using gw = await startGateway(
    `servers:\n${upstream("kid", child.url, "    timeout: 30\n" + FAST_RECONNECT)}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const started = performance.now();
  // Settle the call into a value at once: it may fail while the kill below is still awaited.
  const outcome = client.callTool({ name: "kid__slow", arguments: { ms: 20_000 } }, undefined, {
    timeout: 25_000,
  })
    .then(() => undefined, (error: Error & { code?: number }) => error);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await child.kill("SIGKILL");
  const error = await outcome;
  assert.ok(error, "the call failed");
  assert.equal(error.code, -32000);
  assert.match(error.message, /Upstream 'kid'/);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 3_000, `failed after ${elapsed.toFixed(0)} ms`);
  await waitFor(() => !gw.gateway.health().servers[0]!.connected, "the upstream to be marked down");
  const [down] = (await (await fetch(`${gw.base}/health`)).json()).servers;
  assert.equal(down.tools_stale, true, "its last tools are kept, marked stale");
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("kid__echo"), "its tools are still listed");
});

Deno.test("during an outage an upstream's tools stay known and answer upstream_unavailable; it is served again without a restart", async () => {
  const first = await startHttpFixture({ name: "back" });
  const port = first.port;
  await using gw = await startGateway(
    `servers:\n${upstream("back", first.url, "    reconnect: { backoff_base_ms: 300 }\n")}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  let listChanged = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
  await first.close();
  const health = async () => (await (await fetch(`${gw.base}/health`)).json());
  await waitFor(async () => (await health()).servers[0].connected === false, "the outage");
  const error = await client.callTool({ name: "back__echo", arguments: { text: "x" } }).then(
    () => assert.fail("the call succeeded"),
    (error: Error & { code: number; data: { reason: string; retry_after_ms: number } }) => error,
  );
  assert.equal(error.code, -32000);
  assert.equal(error.data.reason, "upstream_unavailable");
  assert.ok(error.data.retry_after_ms > 0 && error.data.retry_after_ms <= 300);
  assert.match(error.message, /Cannot reach upstream 'back' now: it is (down|connecting)/);
  const rest = await fetch(`${gw.base}/api/tools/back__echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"text":"x"}',
  });
  assert.equal(rest.status, 503);
  assert.ok(Number(rest.headers.get("retry-after")) >= 1);
  assert.match((await rest.json()).error.message, /Cannot reach upstream 'back' now/);
  const down = await health();
  assert.equal(down.status, "degraded");
  assert.equal(down.servers[0].tools_stale, true);
  assert.match(down.servers[0].last_error, /back/);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("back__echo"), "a known tool is not unknown during the outage");
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(
    metrics,
    /^mcpstead_tool_call_errors_total\{server="back",tool="back__echo",reason="upstream_unavailable"\} 2$/m,
    "the MCP and the REST call count under the server's own label",
  );
  {
    await using _same = await startHttpFixture({ name: "back", port });
    await waitFor(async () => (await health()).servers[0].connected, "the reconnect");
    const result = await client.callTool({ name: "back__echo", arguments: { text: "again" } });
    assert.equal((result.content as Array<{ text: string }>)[0]!.text, "back:again");
    assert.equal((await health()).servers[0].tools_stale, false);
  }
  await waitFor(async () => (await health()).servers[0].connected === false, "the second outage");
  await using _changed = await startHttpFixture({ name: "back", port, tools: ["added"] });
  await waitFor(() => listChanged > 0, "list_changed for the new tool", { timeoutMs: 5_000 });
  assert.equal(listChanged, 1, "two outages sent nothing; the changed tool set sent one notice");
  assert.ok((await client.listTools()).tools.some((t) => t.name === "back__added"));
});

Deno.test("GET /health reports every upstream in mcpstead's shape without secrets", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `servers:\n${upstream("up", `${up.url}?api_key=SECRET`, "    required: true\n")}${
      upstream("down", "http://127.0.0.1:9/mcp", FAST_RECONNECT)
    }`,
  );
  await waitFor(() => gw.gateway.health().servers[0]!.connected === true);
  const res = await fetch(`${gw.base}/health`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes("SECRET"), "query values are redacted");
  const body = JSON.parse(text);
  assert.equal(body.status, "degraded");
  assert.equal(typeof body.uptime_seconds, "number");
  const [ok, down] = body.servers;
  assert.deepEqual(Object.keys(ok).sort(), [
    "circuit",
    "connected",
    "era",
    "http_client",
    "http_client_reason",
    "last_error",
    "last_seen_seconds_ago",
    "name",
    "protocol",
    "protocol_version",
    "reconnects",
    "required",
    "state",
    "tools_count",
    "tools_stale",
    "transport",
    "url",
  ]);
  assert.equal(ok.name, "up");
  assert.equal(ok.connected, true);
  assert.equal(ok.era, "legacy");
  assert.equal(ok.protocol_version, "2025-11-25");
  assert.equal(ok.required, true);
  assert.equal(ok.transport, "streamable");
  assert.equal(ok.http_client, "native");
  assert.equal(ok.http_client_reason, null);
  assert.equal(ok.protocol, "auto");
  assert.ok(ok.tools_count > 0);
  assert.equal(ok.last_error, null);
  assert.equal(ok.circuit, "closed");
  assert.equal(typeof ok.last_seen_seconds_ago, "number");
  assert.equal(down.connected, false);
  assert.equal(down.last_seen_seconds_ago, null);
  assert.match(down.last_error, /Cannot reach upstream 'down'/);
});

Deno.test("a required upstream that cannot connect makes ready() fail with its name", async () => {
  const config = parseConfig(
    `servers:\n${
      upstream(
        "must",
        "http://127.0.0.1:9/mcp",
        "    required: true\n    reconnect:\n      max_attempts: 2\n      backoff_base_ms: 10\n",
      )
    }`,
    "t.yaml",
    () => undefined,
  );
  await using gateway = createGateway(config, { version: "t", log: silentLogger });
  await assert.rejects(
    gateway.ready(),
    /Cannot start: required upstream 'must' did not connect: Cannot reach upstream 'must'/,
  );
});

Deno.test("upstream requests carry the configured headers, expanded variables and the bearer token", async () => {
  await using raw = await startRawFixture("json");
  await using gw = await startGateway(
    `servers:\n${
      upstream(
        "raw",
        raw.url,
        "    headers:\n      X-Api-Key: 'k-${API_KEY}'\n    auth:\n      type: bearer\n      token_env: UP_TOKEN\n    quirks:\n      inject_accept_header: 'application/json, text/event-stream, */*'\n",
      )
    }`,
    { API_KEY: "123", UP_TOKEN: "tok" },
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  await client.callTool({ name: "raw__t", arguments: {} });
  const call = raw.requests.find((r) => (r.body as { method?: string })?.method === "tools/call")!;
  assert.equal(call.headers["x-api-key"], "k-123");
  assert.equal(call.headers["authorization"], "Bearer tok");
  assert.equal(call.headers["accept"], "application/json, text/event-stream, */*");
  assert.equal(call.headers["mcp-protocol-version"], "2025-11-25");
  assert.ok(call.headers["mcp-session-id"]);
  assert.match(call.headers["user-agent"]!, /^mcpstead\//);
  const init = raw.requests.find((r) => (r.body as { method?: string })?.method === "initialize")!;
  assert.deepEqual((init.body as { params: { clientInfo: unknown } }).params.clientInfo, {
    name: "mcpstead",
    version: "test",
  });
});
