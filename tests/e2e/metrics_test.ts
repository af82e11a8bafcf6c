import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient, endSession } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { promtoolCheck } from "../_support/promtool.ts";
import { waitFor } from "../_support/wait.ts";

/** The value of one sample line, e.g. `sample(text, 'mcpstead_tool_calls_total{server="up",tool="up__echo"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("GET /metrics shows every family after the events that drive it, and promtool accepts it", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `mcp:\n  auth:\n    mode: bearer\nservers:\n${upstream("up", up.url)}`,
    { MCPSTEAD_BEARER_TOKEN: "tok" },
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  const denied = await fetch(gw.url, { method: "POST", headers: { authorization: "Bearer nope" } });
  await denied.body?.cancel();
  const client = await connectClient(gw.url, { headers: { authorization: "Bearer tok" } });
  await client.callTool({ name: "up__echo", arguments: { text: "x" } });
  await client.callTool({ name: "up__fail", arguments: {} });
  await client.callTool({ name: "nope__x", arguments: {} }).catch(() => {});
  await endSession(client);

  const res = await fetch(`${gw.base}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const checked = await promtoolCheck(text);
  assert.equal(checked.code, 0, checked.output);
  assert.equal(checked.output.trim(), "");

  const expect = (series: string, value?: number) => {
    const found = sample(text, series);
    assert.ok(found !== undefined, `${series} is missing`);
    if (value !== undefined) assert.equal(found, value, series);
    else assert.ok(found > 0, `${series} is ${found}`);
  };
  expect(`mcpstead_tool_calls_total{server="up",tool="up__echo"}`, 1);
  expect(
    `mcpstead_tool_call_errors_total{server="up",tool="up__fail",reason="upstream_returned_error"}`,
    1,
  );
  expect(`mcpstead_tool_calls_total{server="unknown",tool="unknown"}`, 1);
  expect(`mcpstead_tool_call_duration_seconds_count{server="up",tool="up__echo"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="tools/call",result="success"}`, 2);
  expect(`mcpstead_mcp_requests_total{method="tools/call",result="error"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="terminate",result="success"}`, 1);
  expect(`mcpstead_mcp_auth_failures_total{reason="wrong_token"}`, 1);
  expect(`mcpstead_mcp_auth_attempts_total{result="success"}`);
  expect(`mcpstead_downstream_sessions_total`, 1);
  expect(`mcpstead_downstream_session_terminations_total{reason="client_delete"}`, 1);
  expect(`mcpstead_downstream_session_duration_seconds_count`, 1);
  expect(`mcpstead_downstream_sessions_active`, 0);
  expect(`mcpstead_upstream_connected{server="up"}`, 1);
  expect(`mcpstead_upstream_tools{server="up"}`);
  expect(`mcpstead_upstream_initialize_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_tools_refresh_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_health_checks_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_bytes_total{server="up",direction="sent"}`);
  expect(`mcpstead_upstream_bytes_total{server="up",direction="received"}`);
  expect(`mcpstead_upstream_last_seen_seconds{server="up"}`, undefined);
  expect(`mcpstead_process_resident_memory_bytes`);
  assert.match(text, /^mcpstead_build_info\{version="test",/m);
  for (
    const family of [
      "mcpstead_config_reloads_total",
      "mcpstead_upstream_session_resets_total",
      "mcpstead_upstream_restarts_total",
    ]
  ) {
    assert.equal(
      text.split("\n").filter((l) => l === `# TYPE ${family} counter`).length,
      1,
      family,
    );
  }
  assert.ok(!text.includes("nope__x"), "client-chosen names never become label values");
});

Deno.test("metrics.enabled: false answers /metrics with 404", async () => {
  await using gw = await startGateway("metrics:\n  enabled: false\n");
  const res = await fetch(`${gw.base}/metrics`);
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "metrics disabled\n");
});

Deno.test({
  name: "a real Prometheus server scrapes /metrics on loopback",
  async fn() {
    await using up = await startHttpFixture({ name: "up" });
    await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
    await waitFor(() => gw.gateway.catalog().size > 0);
    const dir = await Deno.makeTempDir();
    const target = gw.base.replace("http://", "");
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mcpstead\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const prometheus = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const logs = new Response(prometheus.stderr).text();
    try {
      const query = async (q: string) => {
        const res = await fetch(
          `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`,
        ).catch(() => undefined);
        if (!res?.ok) {
          await res?.body?.cancel();
          return undefined;
        }
        const body = await res.json();
        return body.data.result[0]?.value[1] as string | undefined;
      };
      await waitFor(
        async () => (await query('up{job="mcpstead"}')) === "1",
        "prometheus to scrape",
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.equal(await query('mcpstead_upstream_connected{server="up"}'), "1");
      const health = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json();
      assert.equal(health.data.activeTargets[0].lastError, "");
    } finally {
      prometheus.kill("SIGTERM");
      await prometheus.status;
      await logs;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
