// Validates our exposition with the reference linter, `promtool check metrics` (Go expfmt
// parser plus promlint). promtool comes from Debian's `prometheus` package:
//   apt-get update && apt-get install -y --no-install-recommends prometheus
// Without promtool these tests are skipped (with a line saying so), or fail when CI is set.

import assert from "node:assert/strict";
import {
  DURATION_BUCKETS,
  registerProcessMetrics,
  Registry,
  render,
  SESSION_DURATION_BUCKETS,
} from "../../src/metrics/mod.ts";
import { promtoolCheck } from "../_support/promtool.ts";
import { requireTool } from "../_support/tools.ts";

/** A registry exercising every type, several label sets, awkward values and process metrics. */
function fullRegistry(): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry, { version: "0.2.0", gitSha: "deadbeef" });
  registry.gauge({
    name: "mcpstead_upstream_connected",
    help: "Whether the upstream is connected (1) or not (0).",
    labelNames: ["server"],
  }).set({ server: "files" }, 1);
  const calls = registry.counter({
    name: "mcpstead_tool_calls_total",
    help: 'Tool calls routed to an upstream; "quotes", a back\\slash and a\nnewline.',
    labelNames: ["server", "tool"],
  });
  calls.inc({ server: "files", tool: "read" });
  calls.inc({ server: "files", tool: 'we"ird\\na\nme' }, 2);
  calls.inc({ server: "ünï ✓", tool: "{x}=y, z" }, 0.5);
  registry.counter({ name: "mcpstead_downstream_sessions_total", help: "Sessions." }).inc(3);
  registry.counter({
    name: "mcpstead_config_reloads_total",
    help: "Reloads by result; no samples yet.",
    labelNames: ["result"],
  });
  const edge = registry.gauge({
    name: "mcpstead_test_edge",
    help: "Edge values.",
    labelNames: ["k"],
  });
  edge.set({ k: "nan" }, NaN);
  edge.set({ k: "inf" }, Infinity);
  edge.set({ k: "neginf" }, -Infinity);
  edge.set({ k: "tiny" }, 1.5e-7);
  edge.set({ k: "neg" }, -2.25);
  registry.gauge({
    name: "mcpstead_test_collected",
    help: "Collected at scrape time.",
    labelNames: ["server"],
    collect: () => [{ labels: { server: "a" }, value: 1 }, { labels: { server: "b" }, value: 2 }],
  });
  const durations = registry.histogram({
    name: "mcpstead_tool_call_duration_seconds",
    help: "Tool call duration.",
    labelNames: ["server", "tool"],
    buckets: DURATION_BUCKETS,
  });
  for (
    const [server, tool, value] of [["files", "read", 0.003], ["files", "read", 0.7], [
      "git",
      'lo"g',
      12,
    ], ["git", "diff", 99]] as const
  ) {
    durations.observe({ server, tool }, value);
  }
  registry.histogram({
    name: "mcpstead_downstream_session_duration_seconds",
    help: "Session duration.",
    buckets: SESSION_DURATION_BUCKETS,
  }).observe(42);
  registry.histogram({
    name: "mcpstead_mcp_request_duration_seconds",
    help: "No observations yet.",
    labelNames: ["method"],
    buckets: DURATION_BUCKETS,
  });
  return registry;
}

Deno.test(requireTool(["promtool"], {
  name: "render() output passes promtool check metrics",
  async fn({ promtool }) {
    const text = render(fullRegistry());
    // The fixture really contains what it claims to exercise.
    assert.match(text, /_bucket\{server="git",tool="lo\\"g",le="\+Inf"} 1\n/);
    assert.match(text, /tool="we\\"ird\\\\na\\nme"/);
    assert.match(text, /^mcpstead_test_edge\{k="nan"} NaN$/m);
    assert.match(text, /^mcpstead_process_resident_memory_bytes \d+$/m);
    const { code, output } = await promtoolCheck(promtool, text);
    assert.equal(output, "", `promtool reported problems:\n${output}\n--- exposition ---\n${text}`);
    assert.equal(code, 0);
  },
}));

Deno.test(requireTool(["promtool"], {
  name: "render() output with every process metric present passes promtool check metrics",
  async fn({ promtool }) {
    const files: Record<string, string> = {
      "/proc/self/stat": "1 (gw) S 0 1 1 0 -1 0 0 0 0 0 250 50 0 0 20 0 7 0 1 18589921280 8110\n",
      "/proc/self/status": "VmRSS:\t32440 kB\nThreads:\t7\n",
      "/proc/self/limits":
        "Max open files            unlimited            unlimited            files\n",
    };
    const registry = new Registry();
    registerProcessMetrics(registry, {
      readFile(path) {
        const content = files[path];
        if (content === undefined) throw new Deno.errors.NotFound(path);
        return new TextEncoder().encode(content);
      },
      readDir: () => ["0", "1", "2"],
    });
    const text = render(registry);
    assert.equal(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length, 9);
    const { code, output } = await promtoolCheck(promtool, text);
    assert.equal(output, "", `promtool reported problems:\n${output}\n--- exposition ---\n${text}`);
    assert.equal(code, 0);
  },
}));

Deno.test(requireTool(["promtool"], {
  name: "promtool check metrics rejects duplicate TYPE lines (the Rust gateway's bug)",
  async fn({ promtool }) {
    // What mcpstead emits for a labelled histogram: HELP/TYPE repeated for every series.
    const broken = [
      "# HELP d_seconds Duration.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{method="a",le="+Inf"} 1',
      'd_seconds_sum{method="a"} 1',
      'd_seconds_count{method="a"} 1',
      "# HELP d_seconds Duration.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{method="b",le="+Inf"} 1',
      'd_seconds_sum{method="b"} 1',
      'd_seconds_count{method="b"} 1',
      "",
    ].join("\n");
    const { code, output } = await promtoolCheck(promtool, broken);
    assert.notEqual(code, 0);
    assert.match(output, /second (HELP|TYPE) line for metric name "d_seconds"/);
  },
}));

Deno.test(requireTool(["promtool"], {
  name: "promtool check metrics reports lint problems on its output",
  async fn({ promtool }) {
    // Valid syntax, but a counter without `_total`: promtool lints it, so empty output means clean.
    const registry = new Registry();
    registry.counter({ name: "requests", help: "Requests." }).inc();
    const { code, output } = await promtoolCheck(promtool, render(registry));
    assert.notEqual(code, 0);
    assert.match(output, /counter metrics should have "_total" suffix/);
  },
}));
