import assert from "node:assert/strict";
import process from "node:process";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient, endSession } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { promtoolCheck } from "../_support/promtool.ts";
import { requireTool, startTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";

/** The value of one sample line, e.g. `sample(text, 'mcpstead_tool_calls_total{server="up",tool="up__echo"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every family of the exposition and its type, in the order the gateway renders them. */
const FAMILIES = [
  "mcpstead_build_info gauge",
  "mcpstead_start_time_seconds gauge",
  "mcpstead_uptime_seconds gauge",
  "mcpstead_process_resident_memory_bytes gauge",
  "mcpstead_process_virtual_memory_bytes gauge",
  "mcpstead_process_cpu_seconds_total counter",
  "mcpstead_process_open_fds gauge",
  "mcpstead_process_max_fds gauge",
  "mcpstead_process_threads gauge",
  "mcpstead_upstream_connected gauge",
  "mcpstead_upstream_tools gauge",
  "mcpstead_upstream_reconnects_total counter",
  "mcpstead_upstream_last_seen_seconds gauge",
  "mcpstead_upstream_in_backoff gauge",
  "mcpstead_upstream_current_backoff_seconds gauge",
  "mcpstead_upstream_instances gauge",
  "mcpstead_upstream_circuit_state gauge",
  "mcpstead_downstream_sessions_active gauge",
  "mcpstead_downstream_sessions_total counter",
  "mcpstead_downstream_session_duration_seconds histogram",
  "mcpstead_downstream_session_terminations_total counter",
  "mcpstead_tool_calls_total counter",
  "mcpstead_tool_call_errors_total counter",
  "mcpstead_tool_call_duration_seconds histogram",
  "mcpstead_mcp_requests_total counter",
  "mcpstead_mcp_request_duration_seconds histogram",
  "mcpstead_upstream_initialize_total counter",
  "mcpstead_upstream_initialize_duration_seconds histogram",
  "mcpstead_upstream_health_checks_total counter",
  "mcpstead_upstream_reconnect_attempts_total counter",
  "mcpstead_upstream_backoff_seconds_total counter",
  "mcpstead_upstream_session_resets_total counter",
  "mcpstead_upstream_tools_refresh_total counter",
  "mcpstead_upstream_tools_refresh_duration_seconds histogram",
  "mcpstead_upstream_tools_last_refresh_timestamp_seconds gauge",
  "mcpstead_upstream_retries_total counter",
  "mcpstead_rate_limited_total counter",
  "mcpstead_client_requests_total counter",
  "mcpstead_upstream_restarts_total counter",
  "mcpstead_mcp_auth_attempts_total counter",
  "mcpstead_mcp_auth_failures_total counter",
  "mcpstead_config_reloads_total counter",
  "mcpstead_config_last_reload_timestamp_seconds gauge",
  "mcpstead_upstream_bytes_total counter",
];

/** What one bearer-token client did through the gateway, and the `/metrics` text after it. */
interface Scrape {
  text: string;
  /** Tools the gateway lists for the upstream `up`. */
  upTools: number;
  /** Body bytes of every request the upstream received. */
  upstreamBodyBytes: number;
  /** Bytes of the upstream's own `tools/list` result: the gateway received at least this. */
  upstreamListBytes: number;
  /** Wall-clock seconds before the gateway started and when the scrape answered. */
  startedAt: number;
  scrapedAt: number;
}

/**
 * One denied request, then a client that calls a tool, a failing tool and an unknown tool and
 * ends its session with DELETE; then one scrape.
 */
async function scrapeAfterTraffic(): Promise<Scrape> {
  await using up = await startHttpFixture({ name: "up" });
  const startedAt = Date.now() / 1000;
  await using gw = await startGateway(
    `mcp:\n  auth:\n    mode: bearer\nservers:\n${upstream("up", up.url)}`,
    { MCPSTEAD_BEARER_TOKEN: "tok" },
  );
  const headers = { authorization: "Bearer tok" };
  await waitFor(async () => {
    const health = await (await fetch(`${gw.base}/health`)).json();
    return health.servers[0].tools_count > 0;
  }, "the upstream's tools");
  const denied = await fetch(gw.url, { method: "POST", headers: { authorization: "Bearer nope" } });
  await denied.body?.cancel();
  const client = await connectClient(gw.url, { headers });
  const listed = (await client.listTools()).tools.filter((t) => t.name.startsWith("up__"));
  await client.callTool({ name: "up__echo", arguments: { text: "x" } });
  await client.callTool({ name: "up__fail", arguments: {} });
  await client.callTool({ name: "nope__x", arguments: {} }).catch(() => {});
  await endSession(client);
  const upstreamBodyBytes = up.requests.reduce(
    (sum, r) => sum + Number(r.headers["content-length"] ?? 0),
    0,
  );
  await using direct = await connectClient(up.url);
  const upstreamListBytes = JSON.stringify(await direct.listTools()).length;
  const res = await fetch(`${gw.base}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return {
    text: await res.text(),
    upTools: listed.length,
    upstreamBodyBytes,
    upstreamListBytes,
    startedAt,
    scrapedAt: Date.now() / 1000,
  };
}

Deno.test("GET /metrics shows every family after the events that drive it", async () => {
  const scrape = await scrapeAfterTraffic();
  const { text } = scrape;
  const types = text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.slice(7));
  assert.deepEqual(types, FAMILIES);
  const value = (series: string): number => {
    const found = sample(text, series);
    assert.ok(found !== undefined, `${series} is missing`);
    return found;
  };
  const expect = (series: string, expected: number) =>
    assert.equal(value(series), expected, series);
  const within = (series: string, low: number, high: number) => {
    const found = value(series);
    assert.ok(found >= low && found <= high, `${series} is ${found}, not in [${low}, ${high}]`);
  };
  const elapsed = scrape.scrapedAt - scrape.startedAt;

  assert.match(text, /^mcpstead_build_info\{version="test",deno_version="[^"]+",/m);
  within("mcpstead_start_time_seconds", scrape.startedAt - 1, scrape.scrapedAt);
  within("mcpstead_uptime_seconds", 0, elapsed + 1);
  const rss = Deno.memoryUsage().rss;
  within("mcpstead_process_resident_memory_bytes", rss / 2, rss * 2);
  within("mcpstead_process_virtual_memory_bytes", rss, Infinity);
  within("mcpstead_process_cpu_seconds_total", 0.001, Infinity); // grows: the test below
  within("mcpstead_process_open_fds", 3, value("mcpstead_process_max_fds"));
  within("mcpstead_process_threads", 1, 1024);

  expect(`mcpstead_upstream_connected{server="up"}`, 1);
  expect(`mcpstead_upstream_tools{server="up"}`, scrape.upTools);
  expect(`mcpstead_upstream_reconnects_total{server="up"}`, 0);
  within(`mcpstead_upstream_last_seen_seconds{server="up"}`, 0, elapsed);
  expect(`mcpstead_upstream_in_backoff{server="up"}`, 0);
  expect(`mcpstead_upstream_current_backoff_seconds{server="up"}`, 0);
  expect(`mcpstead_upstream_instances{server="up"}`, 0);
  expect(`mcpstead_upstream_circuit_state{server="up"}`, 0);

  expect(`mcpstead_downstream_sessions_active`, 0);
  expect(`mcpstead_downstream_sessions_total`, 1);
  expect(`mcpstead_downstream_session_duration_seconds_count`, 1);
  expect(`mcpstead_downstream_session_terminations_total{reason="client_delete"}`, 1);

  expect(`mcpstead_tool_calls_total{server="up",tool="up__echo"}`, 1);
  expect(`mcpstead_tool_calls_total{server="up",tool="up__fail"}`, 1);
  expect(`mcpstead_tool_calls_total{server="unknown",tool="unknown"}`, 1);
  expect(
    `mcpstead_tool_call_errors_total{server="up",tool="up__fail",reason="upstream_returned_error"}`,
    1,
  );
  expect(
    `mcpstead_tool_call_errors_total{server="unknown",tool="unknown",reason="unknown_tool"}`,
    1,
  );
  expect(`mcpstead_tool_call_duration_seconds_count{server="up",tool="up__echo"}`, 1);
  within(`mcpstead_tool_call_duration_seconds_sum{server="up",tool="up__echo"}`, 0, elapsed);

  expect(`mcpstead_mcp_requests_total{method="initialize",result="success"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="notifications/initialized",result="success"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="listen",result="success"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="tools/list",result="success"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="tools/call",result="success"}`, 2);
  expect(`mcpstead_mcp_requests_total{method="tools/call",result="error"}`, 1);
  expect(`mcpstead_mcp_requests_total{method="terminate",result="success"}`, 1);
  expect(`mcpstead_mcp_request_duration_seconds_count{method="tools/call"}`, 3);

  expect(`mcpstead_upstream_initialize_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_initialize_duration_seconds_count{server="up"}`, 1);
  expect(`mcpstead_upstream_health_checks_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_tools_refresh_total{server="up",result="success"}`, 1);
  expect(`mcpstead_upstream_tools_refresh_duration_seconds_count{server="up"}`, 1);
  within(
    `mcpstead_upstream_tools_last_refresh_timestamp_seconds{server="up"}`,
    scrape.startedAt - 1,
    scrape.scrapedAt,
  );
  expect(`mcpstead_upstream_bytes_total{server="up",direction="sent"}`, scrape.upstreamBodyBytes);
  within(
    `mcpstead_upstream_bytes_total{server="up",direction="received"}`,
    scrape.upstreamListBytes,
    Infinity,
  );

  // Eight /mcp requests carried the right token (initialize, initialized, the GET stream,
  // tools/list, three calls, DELETE); four of them were requests for the upstream.
  expect(`mcpstead_mcp_auth_attempts_total{result="success"}`, 8);
  expect(`mcpstead_client_requests_total{client="bearer"}`, 4);
  expect(`mcpstead_mcp_auth_attempts_total{result="failure"}`, 1);
  expect(`mcpstead_mcp_auth_failures_total{reason="wrong_token"}`, 1);
  // Families with no event in this scenario render their TYPE line and no sample.
  for (
    const family of [
      "mcpstead_upstream_reconnect_attempts_total",
      "mcpstead_upstream_backoff_seconds_total",
      "mcpstead_upstream_session_resets_total",
      "mcpstead_upstream_retries_total",
      "mcpstead_rate_limited_total",
      "mcpstead_upstream_restarts_total",
      "mcpstead_config_reloads_total",
      "mcpstead_config_last_reload_timestamp_seconds",
    ]
  ) {
    assert.ok(!text.split("\n").some((l) => l.startsWith(family)), `${family} has no sample`);
  }
  assert.ok(!text.includes("nope__x"), "client-chosen names never become label values");
});

Deno.test("mcpstead_process_cpu_seconds_total grows by the CPU time the process uses", async () => {
  await using gw = await startGateway("servers: []\n");
  const scrape = async () =>
    sample(await (await fetch(`${gw.base}/metrics`)).text(), "mcpstead_process_cpu_seconds_total")!;
  const before = await scrape();
  const used = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const from = used();
  let spin = 0;
  while (used() - from < 0.3) spin++;
  const grown = (await scrape()) - before;
  assert.ok(spin > 0);
  assert.ok(grown >= 0.25, `grew ${grown} s after 0.3 s of CPU`);
});

Deno.test(requireTool(["promtool"], {
  name: "promtool check metrics accepts GET /metrics after traffic",
  async fn({ promtool }) {
    const { text } = await scrapeAfterTraffic();
    const checked = await promtoolCheck(promtool, text);
    assert.equal(checked.code, 0, checked.output);
    assert.equal(checked.output.trim(), "");
  },
}));

Deno.test("metrics.enabled: false answers /metrics with 404", async () => {
  await using gw = await startGateway("metrics:\n  enabled: false\n");
  const res = await fetch(`${gw.base}/metrics`);
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "metrics disabled\n");
});

Deno.test(requireTool(["prometheus"], {
  name: "a real Prometheus server scrapes /metrics on loopback",
  async fn({ prometheus }) {
    await using up = await startHttpFixture({ name: "up" });
    await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
    const dir = await Deno.makeTempDir();
    const target = gw.base.replace("http://", "");
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mcpstead\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    await using server = await startTool(prometheus, [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      "--web.listen-address=127.0.0.1:0",
    ], /msg="Listening on" address=(127\.0\.0\.1:\d+)/);
    const address = server.ready[1];
    const query = async (q: string) => {
      const res = await fetch(`http://${address}/api/v1/query?query=${encodeURIComponent(q)}`)
        .catch(() => undefined);
      if (!res?.ok) {
        await res?.body?.cancel();
        return undefined;
      }
      const body = await res.json();
      return body.data.result[0]?.value[1] as string | undefined;
    };
    await waitFor(
      async () => (await query('mcpstead_upstream_connected{server="up"}')) === "1",
      "prometheus to scrape a connected upstream",
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(await query('up{job="mcpstead"}'), "1");
    const health = await (await fetch(`http://${address}/api/v1/targets`)).json();
    assert.equal(health.data.activeTargets[0].lastError, "");
    await Deno.remove(dir, { recursive: true });
  },
}));
