import assert from "node:assert/strict";
import { Registry, render } from "../../src/metrics/mod.ts";

Deno.test("Registry.counter() throws when the same name is registered twice", () => {
  const registry = new Registry();
  registry.counter({ name: "jobs_total", help: "Jobs." });
  assert.throws(
    () => registry.counter({ name: "jobs_total", help: "Jobs again." }),
    { name: "TypeError", message: 'Cannot register metric "jobs_total": already registered' },
  );
  assert.throws(
    () => registry.gauge({ name: "jobs_total", help: "Same name, other type." }),
    /already registered/,
  );
});

Deno.test("Registry.histogram() refuses names that collide with another family's samples", () => {
  const registry = new Registry();
  registry.histogram({ name: "latency_seconds", help: "Latency.", buckets: [1] });
  assert.throws(
    () => registry.counter({ name: "latency_seconds_count", help: "Clash." }),
    /its sample "latency_seconds_count" collides with "latency_seconds"/,
  );
  registry.gauge({ name: "size_bucket", help: "A gauge first." });
  assert.throws(
    () => registry.histogram({ name: "size", help: "Clash.", buckets: [1] }),
    /collides with "size_bucket"/,
  );
});

Deno.test("Registry rejects invalid names, labels and buckets", () => {
  const registry = new Registry();
  assert.throws(() => registry.counter({ name: "9lives", help: "x" }), /invalid metric name/);
  assert.throws(() => registry.counter({ name: "a-b", help: "x" }), /invalid metric name/);
  assert.throws(() => registry.counter({ name: "no_help_total", help: "" }), /help text/);
  assert.throws(
    () => registry.counter({ name: "a_total", help: "x", labelNames: ["__reserved"] }),
    /invalid label name "__reserved"/,
  );
  assert.throws(
    () => registry.counter({ name: "b_total", help: "x", labelNames: ["x", "x"] }),
    /duplicate label name "x"/,
  );
  assert.throws(
    () => registry.histogram({ name: "c", help: "x", labelNames: ["le"], buckets: [1] }),
    /label name "le" is reserved/,
  );
  assert.throws(
    () => registry.histogram({ name: "d", help: "x", buckets: [1, 1] }),
    /buckets must increase, got 1 then 1/,
  );
  assert.throws(
    () => registry.histogram({ name: "e", help: "x", buckets: [NaN] }),
    /bucket NaN is not a finite number/,
  );
  // A failed registration leaves the name free.
  registry.counter({ name: "a_total", help: "x", labelNames: ["ok"] });
});

Deno.test("Counter.inc() rejects negative and NaN increments", () => {
  const counter = new Registry().counter({ name: "c_total", help: "x", labelNames: ["k"] });
  assert.throws(() => counter.inc({ k: "a" }, -1), {
    name: "RangeError",
    message: 'Cannot increment counter "c_total": value must be >= 0, got -1',
  });
  assert.throws(() => counter.inc({ k: "a" }, NaN), RangeError);
  assert.equal(counter.get({ k: "a" }), 0);
});

Deno.test("Histogram.observe() rejects NaN", () => {
  const histogram = new Registry().histogram({ name: "h", help: "x", buckets: [1] });
  assert.throws(() => histogram.observe(NaN), /Cannot observe histogram "h": value is NaN/);
});

Deno.test("Counter.inc() throws a TypeError naming a label that is missing at run time", () => {
  const counter = new Registry().counter({
    name: "c_total",
    help: "x",
    labelNames: ["server", "result"],
  });
  const labels = { server: "a" } as unknown as { server: string; result: string };
  assert.throws(() => counter.inc(labels), {
    name: "TypeError",
    message: 'Cannot record "c_total": label "result" must be a string, got undefined',
  });
});

Deno.test("Counter.labels() returns a bound child that updates the same series", () => {
  const registry = new Registry();
  const counter = registry.counter({ name: "c_total", help: "x", labelNames: ["k"] });
  const child = counter.labels({ k: "a" });
  child.inc();
  counter.inc({ k: "a" }, 2);
  child.inc(0.5);
  assert.equal(counter.get({ k: "a" }), 3.5);
  assert.equal(child.get(), 3.5);
  assert.equal(counter.get({ k: "b" }), undefined);
});

Deno.test("Counter.remove() drops one series and a stale child no longer exports", () => {
  const registry = new Registry();
  const counter = registry.counter({ name: "up_total", help: "x", labelNames: ["server", "r"] });
  const stale = counter.labels({ server: "old", r: "ok" });
  stale.inc();
  counter.inc({ server: "keep", r: "ok" });
  assert.equal(counter.remove({ server: "old", r: "ok" }), true);
  assert.equal(counter.remove({ server: "old", r: "ok" }), false);
  assert.equal(counter.remove({ server: "never", r: "ok" }), false);
  stale.inc(); // an in-flight call finishing after a reload removed its upstream
  assert.equal(
    render(registry),
    '# HELP up_total x\n# TYPE up_total counter\nup_total{server="keep",r="ok"} 1\n',
  );
  // Recording again makes a fresh series, last in first-seen order.
  counter.inc({ server: "old", r: "ok" });
  assert.match(render(registry), /r="ok"} 1\nup_total\{server="old",r="ok"} 1\n$/);
});

Deno.test("Gauge.remove() and Histogram.remove() drop their series", () => {
  const registry = new Registry();
  const gauge = registry.gauge({ name: "g", help: "x", labelNames: ["s"] });
  const histogram = registry.histogram({ name: "h", help: "x", labelNames: ["s"], buckets: [1] });
  gauge.set({ s: "a" }, 1);
  histogram.observe({ s: "a" }, 1);
  assert.equal(gauge.remove({ s: "a" }), true);
  assert.equal(histogram.remove({ s: "a" }), true);
  assert.equal(render(registry), "# HELP g x\n# TYPE g gauge\n# HELP h x\n# TYPE h histogram\n");
});

Deno.test("Counter.remove() on an unlabelled counter drops its sample until the next inc()", () => {
  const registry = new Registry();
  const counter = registry.counter({ name: "c_total", help: "x" });
  assert.equal(counter.remove(), true);
  assert.equal(render(registry), "# HELP c_total x\n# TYPE c_total counter\n");
  counter.inc();
  assert.equal(render(registry), "# HELP c_total x\n# TYPE c_total counter\nc_total 1\n");
});

Deno.test("Registry.reset() drops every series but keeps unlabelled zeros and registrations", () => {
  const registry = new Registry();
  const plain = registry.counter({ name: "plain_total", help: "x" });
  const labelled = registry.counter({ name: "l_total", help: "x", labelNames: ["k"] });
  const gauge = registry.gauge({ name: "g", help: "x" });
  plain.inc(5);
  labelled.inc({ k: "a" });
  gauge.set(3);
  registry.reset();
  assert.equal(
    render(registry),
    "# HELP plain_total x\n# TYPE plain_total counter\nplain_total 0\n" +
      "# HELP l_total x\n# TYPE l_total counter\n" +
      "# HELP g x\n# TYPE g gauge\n",
  );
  labelled.reset();
  assert.throws(() => registry.counter({ name: "l_total", help: "x" }), /already registered/);
});

Deno.test("Gauge supports set(), inc(), dec() and get()", () => {
  const gauge = new Registry().gauge({ name: "g", help: "x", labelNames: ["k"] });
  gauge.set({ k: "a" }, 10);
  gauge.inc({ k: "a" });
  gauge.inc({ k: "a" }, 4);
  gauge.dec({ k: "a" }, 2.5);
  gauge.dec({ k: "a" });
  assert.equal(gauge.get({ k: "a" }), 11.5);
  const child = gauge.labels({ k: "b" });
  child.set(-3);
  child.dec();
  assert.equal(gauge.get({ k: "b" }), -4);
});

Deno.test("Registry.gauge() with collect calls it on every render", () => {
  const registry = new Registry();
  let calls = 0;
  const metric = registry.gauge({
    name: "g",
    help: "x",
    labelNames: ["k"],
    collect: () => {
      calls++;
      return [{ labels: { k: "a" }, value: calls }, { labels: { k: "b" }, value: -calls }];
    },
  });
  assert.equal(metric.name, "g");
  assert.equal(metric.type, "gauge");
  assert.equal(calls, 0);
  render(registry);
  assert.equal(
    render(registry),
    '# HELP g x\n# TYPE g gauge\ng{k="a"} 2\ng{k="b"} -2\n',
  );
});

Deno.test("Registry.gauge() with collect keeps the last value of a label set returned twice", () => {
  const registry = new Registry();
  registry.gauge({
    name: "g",
    help: "x",
    labelNames: ["k"],
    collect: () => [{ labels: { k: "a" }, value: 1 }, { labels: { k: "a" }, value: 2 }],
  });
  assert.equal(render(registry), '# HELP g x\n# TYPE g gauge\ng{k="a"} 2\n');
});

// Compile-time checks: `deno test` type-checks this file, so a wrong call fails the run.
function _typeChecks(registry: Registry): void {
  const labelled = registry.counter({ name: "t_total", help: "x", labelNames: ["a", "b"] });
  labelled.inc({ a: "1", b: "2" });
  labelled.inc({ a: "1", b: "2" }, 3);
  // @ts-expect-error a declared label is missing
  labelled.inc({ a: "1" });
  // @ts-expect-error label values are strings
  labelled.inc({ a: "1", b: 2 });
  // @ts-expect-error a labelled metric needs its labels
  labelled.inc();
  const plain = registry.counter({ name: "p_total", help: "x" });
  plain.inc();
  plain.inc(2);
  // @ts-expect-error an unlabelled metric takes no labels
  plain.inc({ a: "1" });
  const histogram = registry.histogram({
    name: "h",
    help: "x",
    labelNames: ["m"] as const,
    buckets: [1],
  });
  histogram.observe({ m: "x" }, 1);
  // @ts-expect-error observe needs a value
  histogram.observe({ m: "x" });
  const collected = registry.gauge({ name: "c", help: "x", collect: () => [{ value: 1 }] });
  // @ts-expect-error a collected metric cannot be set
  collected.set(1);
  // @ts-expect-error collected samples carry the declared labels
  registry.gauge({
    name: "d",
    help: "x",
    labelNames: ["k"],
    collect: () => [{ labels: { j: "v" }, value: 1 }],
  });
}
void _typeChecks;
