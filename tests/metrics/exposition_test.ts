import assert from "node:assert/strict";
import { CONTENT_TYPE, DURATION_BUCKETS, Registry, render } from "../../src/metrics/mod.ts";

Deno.test("CONTENT_TYPE is the text format 0.0.4 media type", () => {
  assert.equal(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("render() returns an empty string for an empty registry", () => {
  assert.equal(render(new Registry()), "");
});

Deno.test("render() emits HELP and TYPE for families that have no samples yet", () => {
  const registry = new Registry();
  registry.counter({ name: "calls_total", help: "Calls.", labelNames: ["server"] });
  registry.gauge({ name: "last_reload_timestamp_seconds", help: "Last reload." });
  registry.histogram({ name: "d_seconds", help: "D.", labelNames: ["m"], buckets: [1] });
  assert.equal(
    render(registry),
    "# HELP calls_total Calls.\n# TYPE calls_total counter\n" +
      "# HELP last_reload_timestamp_seconds Last reload.\n" +
      "# TYPE last_reload_timestamp_seconds gauge\n" +
      "# HELP d_seconds D.\n# TYPE d_seconds histogram\n",
  );
});

Deno.test("render() emits a counter's series in first-seen order, labels in declared order", () => {
  const registry = new Registry();
  const counter = registry.counter({
    name: "mcpstead_tool_calls_total",
    help: "Tool calls.",
    labelNames: ["server", "tool"],
  });
  counter.inc({ tool: "read", server: "files" });
  counter.inc({ server: "git", tool: "log" }, 2);
  counter.inc({ server: "files", tool: "read" }, 3);
  counter.inc({ server: "files", tool: "write" });
  assert.equal(
    render(registry),
    "# HELP mcpstead_tool_calls_total Tool calls.\n" +
      "# TYPE mcpstead_tool_calls_total counter\n" +
      'mcpstead_tool_calls_total{server="files",tool="read"} 4\n' +
      'mcpstead_tool_calls_total{server="git",tool="log"} 2\n' +
      'mcpstead_tool_calls_total{server="files",tool="write"} 1\n',
  );
});

Deno.test("render() emits families in registration order", () => {
  const registry = new Registry();
  registry.gauge({ name: "zeta", help: "z" }).set(1);
  registry.counter({ name: "alpha_total", help: "a" }).inc();
  assert.equal(
    render(registry),
    "# HELP zeta z\n# TYPE zeta gauge\nzeta 1\n" +
      "# HELP alpha_total a\n# TYPE alpha_total counter\nalpha_total 1\n",
  );
});

Deno.test("render() emits an unlabelled counter's zero before the first inc()", () => {
  const registry = new Registry();
  registry.counter({ name: "sessions_total", help: "Sessions." });
  assert.equal(
    render(registry),
    "# HELP sessions_total Sessions.\n# TYPE sessions_total counter\nsessions_total 0\n",
  );
});

Deno.test("render() emits a gauge with and without labels", () => {
  const registry = new Registry();
  registry.gauge({ name: "active", help: "Active." }).set(7);
  const connected = registry.gauge({ name: "up", help: "Up.", labelNames: ["server"] });
  connected.set({ server: "a" }, 1);
  connected.set({ server: "b" }, 0);
  assert.equal(
    render(registry),
    "# HELP active Active.\n# TYPE active gauge\nactive 7\n" +
      '# HELP up Up.\n# TYPE up gauge\nup{server="a"} 1\nup{server="b"} 0\n',
  );
});

Deno.test("render() emits cumulative histogram buckets, +Inf, _sum and _count", () => {
  const registry = new Registry();
  const histogram = registry.histogram({
    name: "d_seconds",
    help: "Duration.",
    buckets: [0.005, 0.1, 1, 30],
  });
  for (const value of [0.001, 0.005, 0.05, 0.5, 0.5, 2, 100]) histogram.observe(value);
  assert.equal(
    render(registry),
    "# HELP d_seconds Duration.\n# TYPE d_seconds histogram\n" +
      'd_seconds_bucket{le="0.005"} 2\n' +
      'd_seconds_bucket{le="0.1"} 3\n' +
      'd_seconds_bucket{le="1"} 5\n' +
      'd_seconds_bucket{le="30"} 6\n' +
      'd_seconds_bucket{le="+Inf"} 7\n' +
      "d_seconds_sum 103.056\n" +
      "d_seconds_count 7\n",
  );
});

Deno.test("render() emits an unobserved unlabelled histogram as zeros", () => {
  const registry = new Registry();
  registry.histogram({ name: "s", help: "S.", buckets: [1, 5] });
  assert.equal(
    render(registry),
    "# HELP s S.\n# TYPE s histogram\n" +
      's_bucket{le="1"} 0\ns_bucket{le="5"} 0\ns_bucket{le="+Inf"} 0\ns_sum 0\ns_count 0\n',
  );
});

Deno.test("render() emits HELP and TYPE once for a labelled histogram with several series", () => {
  const registry = new Registry();
  const histogram = registry.histogram({
    name: "mcpstead_tool_call_duration_seconds",
    help: "Tool call duration.",
    labelNames: ["server", "tool"],
    buckets: DURATION_BUCKETS,
  });
  histogram.observe({ server: "a", tool: "x" }, 0.02);
  histogram.observe({ server: "b", tool: "y" }, 3);
  histogram.labels({ server: "c", tool: "z" }).observe(45);
  const text = render(registry);
  const lines = text.split("\n");
  assert.equal(lines.filter((l) => l.startsWith("# HELP")).length, 1);
  assert.equal(lines.filter((l) => l.startsWith("# TYPE")).length, 1);
  assert.deepEqual(lines.slice(0, 2), [
    "# HELP mcpstead_tool_call_duration_seconds Tool call duration.",
    "# TYPE mcpstead_tool_call_duration_seconds histogram",
  ]);
  assert.equal(lines.filter((l) => l.includes("_bucket{")).length, 3 * 13);
  const series = (server: string, tool: string) =>
    lines.filter((l) => l.includes(`{server="${server}",tool="${tool}"`));
  assert.deepEqual(series("b", "y").slice(8, 12), [
    'mcpstead_tool_call_duration_seconds_bucket{server="b",tool="y",le="2.5"} 0',
    'mcpstead_tool_call_duration_seconds_bucket{server="b",tool="y",le="5"} 1',
    'mcpstead_tool_call_duration_seconds_bucket{server="b",tool="y",le="10"} 1',
    'mcpstead_tool_call_duration_seconds_bucket{server="b",tool="y",le="30"} 1',
  ]);
  assert.deepEqual(series("c", "z").slice(-3), [
    'mcpstead_tool_call_duration_seconds_bucket{server="c",tool="z",le="+Inf"} 1',
    'mcpstead_tool_call_duration_seconds_sum{server="c",tool="z"} 45',
    'mcpstead_tool_call_duration_seconds_count{server="c",tool="z"} 1',
  ]);
  assert.ok(text.endsWith("\n"));
});

Deno.test("render() spells le bounds without trailing zeros", () => {
  const registry = new Registry();
  registry.histogram({ name: "h", help: "h", buckets: [0.005, 0.25, 1.0, 2.50, 30, 21600] });
  const les = [...render(registry).matchAll(/le="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(les, ["0.005", "0.25", "1", "2.5", "30", "21600", "+Inf"]);
});

Deno.test("render() accepts an explicit +Inf bucket without repeating it", () => {
  const registry = new Registry();
  registry.histogram({ name: "h", help: "h", buckets: [1, Infinity] });
  assert.equal(render(registry).match(/le="\+Inf"/g)?.length, 1);
});

Deno.test("render() spells integers, floats, NaN and infinities as Prometheus parses them", () => {
  const registry = new Registry();
  const gauge = registry.gauge({ name: "v", help: "v", labelNames: ["k"] });
  const cases: [string, number, string][] = [
    ["int", 42, "42"],
    ["neg", -3, "-3"],
    ["big", 2 ** 53, "9007199254740992"],
    ["float", 0.1 + 0.2, "0.30000000000000004"],
    ["small", 1.5e-7, "1.5e-7"],
    ["huge", 1e21, "1e+21"],
    ["negzero", -0, "0"],
    ["nan", NaN, "NaN"],
    ["inf", Infinity, "+Inf"],
    ["neginf", -Infinity, "-Inf"],
  ];
  for (const [k, value] of cases) gauge.set({ k }, value);
  const text = render(registry);
  for (const [k, , spelled] of cases) {
    assert.ok(text.includes(`v{k="${k}"} ${spelled}\n`), `${k} should render as ${spelled}`);
  }
});

Deno.test("render() escapes backslash, double quote and newline in label values", () => {
  const registry = new Registry();
  const counter = registry.counter({ name: "e_total", help: "e", labelNames: ["v"] });
  counter.inc({ v: 'C:\\dir "quoted"\nnext' });
  counter.inc({ v: "ünïcode ✓ {braces}, commas=ok" });
  assert.equal(
    render(registry),
    "# HELP e_total e\n# TYPE e_total counter\n" +
      'e_total{v="C:\\\\dir \\"quoted\\"\\nnext"} 1\n' +
      'e_total{v="ünïcode ✓ {braces}, commas=ok"} 1\n',
  );
});

Deno.test("render() escapes backslash and newline in HELP but leaves quotes", () => {
  const registry = new Registry();
  registry.gauge({ name: "h", help: 'Path C:\\tmp\nsecond line "as is"' });
  assert.equal(
    render(registry),
    '# HELP h Path C:\\\\tmp\\nsecond line "as is"\n# TYPE h gauge\n',
  );
});

Deno.test("render() emits a collected counter's samples", () => {
  const registry = new Registry();
  registry.counter({
    name: "cpu_seconds_total",
    help: "CPU.",
    labelNames: ["mode"],
    collect: () => [{ labels: { mode: "user" }, value: 1.25 }, {
      labels: { mode: "system" },
      value: 0.5,
    }],
  });
  assert.equal(
    render(registry),
    "# HELP cpu_seconds_total CPU.\n# TYPE cpu_seconds_total counter\n" +
      'cpu_seconds_total{mode="user"} 1.25\ncpu_seconds_total{mode="system"} 0.5\n',
  );
});

Deno.test("render() emits only HELP and TYPE when collect returns nothing", () => {
  const registry = new Registry();
  registry.gauge({ name: "fds", help: "FDs.", collect: () => [] });
  assert.equal(render(registry), "# HELP fds FDs.\n# TYPE fds gauge\n");
});
