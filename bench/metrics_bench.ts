import { DURATION_BUCKETS, Registry, render } from "../src/metrics/mod.ts";

function populated(): Registry {
  const registry = new Registry();
  const calls = registry.counter({
    name: "mcpstead_tool_calls_total",
    help: "Tool calls routed to an upstream.",
    labelNames: ["server", "tool"],
  });
  for (let i = 0; i < 1_000; i++) calls.inc({ server: `server-${i % 10}`, tool: `tool_${i}` }, i);
  const durations = registry.histogram({
    name: "mcpstead_tool_call_duration_seconds",
    help: "Tool call duration.",
    labelNames: ["server", "tool"],
    buckets: DURATION_BUCKETS,
  });
  for (let i = 0; i < 50; i++) {
    for (let j = 0; j < 20; j++) {
      durations.observe({ server: `server-${i % 10}`, tool: `tool_${i}` }, j * 0.37);
    }
  }
  return registry;
}

const registry = populated();

Deno.bench({
  name: "render() 1,000 counter series + 50 histogram series",
  group: "render",
  fn() {
    render(registry);
  },
});

const encoder = new TextEncoder();

Deno.bench({
  name: "render() + UTF-8 encode, as a /metrics response does",
  group: "render",
  fn() {
    encoder.encode(render(registry));
  },
});

const counter = new Registry().counter({
  name: "mcpstead_mcp_requests_total",
  help: "Requests.",
  labelNames: ["method", "result"],
});
const labels = { method: "tools/call", result: "success" } as const;
counter.inc(labels);
const child = counter.labels(labels);
const plain = new Registry().counter({ name: "plain_total", help: "Plain." });
const histogram = new Registry().histogram({
  name: "d_seconds",
  help: "Duration.",
  labelNames: ["method"],
  buckets: DURATION_BUCKETS,
});
const observed = histogram.labels({ method: "tools/call" });

Deno.bench({
  name: "counter.inc(labels) on an existing series",
  group: "record",
  baseline: true,
  fn() {
    counter.inc(labels);
  },
});

Deno.bench({
  name: "counter.inc(fresh labels object) on an existing series",
  group: "record",
  fn() {
    counter.inc({ method: "tools/call", result: "success" });
  },
});

Deno.bench({
  name: "child.inc() on a pre-bound series",
  group: "record",
  fn() {
    child.inc();
  },
});

Deno.bench({
  name: "counter.inc() unlabelled",
  group: "record",
  fn() {
    plain.inc();
  },
});

Deno.bench({
  name: "child.observe() on a pre-bound histogram series",
  group: "record",
  fn() {
    observed.observe(0.42);
  },
});
