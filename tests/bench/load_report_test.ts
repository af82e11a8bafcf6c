import assert from "node:assert/strict";
import {
  compareSides,
  evaluateTargets,
  type LatencySide,
  type LoadResults,
  type ThroughputSide,
} from "../../bench/load_report.ts";
import { renderMarkdown } from "../../bench/load_markdown.ts";
import { summarize } from "../../bench/stats.ts";

const latencySide = (label: string, p50: number, rps: number, added?: number): LatencySide => ({
  label,
  latency: { ...summarize([p50]), p99: p50 * 2 },
  rps,
  ...(added === undefined ? {} : { rpsRatio: rps / 7000, addedP50: added, addedP99: added * 2 }),
});

const throughputSide = (
  label: string,
  perRound: number[],
  cpu: number | undefined,
  ratio?: number,
): ThroughputSide => ({
  label,
  rps: perRound[0]!,
  perRound,
  ...(ratio === undefined ? {} : { ratio }),
  latency: summarize([1, 2]),
  errors: 0,
  cpuPerCallUs: cpu === undefined ? { upstream: 20 } : { proxy: cpu, upstream: 20 },
  cores: { loadgen: 0.5, other: 0.01 },
});

const RUST = "Rust mcpstead 0.1.13";
const MIKKO = "MikkoParkkola mcp-gateway 3.5.1 (`/mcp/<backend>`, rate limit and cache off)";

/** One run: direct, our gateway and the Rust mcpstead measured, mcp-gateway not installed. */
function run(): LoadResults {
  const r: LoadResults = {
    meta: {},
    peers: [
      { key: "mcpstead-rs", label: RUST, crate: "mcpstead", version: "0.1.13", bin: "/x" },
      {
        key: "mcp-gateway",
        label: MIKKO,
        crate: "mcp-gateway",
        version: "3.5.1",
        skipped: "not installed (--install-peers=all builds it into /c, about 13 minutes)",
      },
    ],
    latency: {
      rounds: 2,
      callsPerRound: 100,
      baseline: "direct",
      sides: {
        direct: latencySide("direct", 0.1, 7000),
        gateway: latencySide("mcpstead 0.2.0 (ours)", 0.64, 1400, 0.54),
        "mcpstead-rs": latencySide(RUST, 0.37, 2800, 0.27),
      },
      perRound: [
        {
          direct: { p50: 0.1, p99: 0.2, rps: 7000 },
          gateway: { p50: 0.6, p99: 1.2, rps: 1500 },
          "mcpstead-rs": { p50: 0.4, p99: 0.8, rps: 3000 },
        },
        {
          direct: { p50: 0.1, p99: 0.2, rps: 7000 },
          gateway: { p50: 0.7, p99: 1.4, rps: 1300 },
          "mcpstead-rs": { p50: 0.35, p99: 0.7, rps: 2600 },
        },
      ],
    },
    throughput: {
      rounds: 2,
      clients: 32,
      durationMs: 1000,
      baseline: "direct",
      sides: {
        direct: throughputSide("direct", [40000, 40000], undefined),
        gateway: throughputSide("mcpstead 0.2.0 (ours)", [3000, 3200], 367, 0.078),
        "mcpstead-rs": throughputSide(RUST, [9000, 9600], 122, 0.23),
      },
    },
    comparisons: [],
    targets: [],
  };
  r.comparisons = compareSides(r);
  r.targets = evaluateTargets(r);
  return r;
}

Deno.test("compareSides() gives our ratios to each side of the same run, rounds paired", () => {
  assert.deepEqual(run().comparisons, [{
    against: "mcpstead-rs",
    label: RUST,
    // Median of 3000/9000 and 3200/9600: both a third.
    rpsMany: 0.333,
    // Median of 1500/3000 and 1300/2600.
    rpsOne: 0.5,
    addedP50: 2,
    cpuPerCall: 3.008,
  }]);
});

Deno.test("evaluateTargets() measures us against the Rust mcpstead of the same run", () => {
  const targets = run().targets.slice(0, 4).map((t) => [t.what, t.value, t.limit, t.met]);
  assert.deepEqual(targets, [
    ["added p50, 1 client: ours ÷ the Rust mcpstead's", 2, "<= 1", false],
    ["added p99, 1 client", 1.08, "<= 1", false],
    ["calls/s, 32 clients: ours ÷ the Rust mcpstead's", 0.333, ">= 1", false],
    ["gateway CPU per call, 32 clients", 367, "<= 100", false],
  ]);
});

Deno.test("evaluateTargets() leaves the Rust targets unmeasured without the Rust mcpstead", () => {
  const r = run();
  r.comparisons = [];
  const targets = evaluateTargets(r);
  assert.equal(targets[0]!.met, undefined);
  assert.equal(targets[2]!.met, undefined);
});

Deno.test("renderMarkdown() shows every side in one table, and a peer that was not measured with why", () => {
  const text = renderMarkdown(run());
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    "| target | added p50 / p99, 1 client (ms) | calls/s, 1 client | calls/s, 32 clients | " +
      "p50 / p99, 32 clients (ms) | CPU per call, 32 clients (µs) | " +
      "load generator / other processes (cores) |",
  );
  assert.ok(lines.includes(
    "| direct | — (itself 0.100 / 0.200) | 7,000 | 40,000 | 1.00 / 2.00 | — | 0.50 / 0.01 |",
  ));
  assert.ok(lines.includes(
    "| mcpstead 0.2.0 (ours) | +0.540 / +1.080 | 1,400 (0.20×) | 3,000 (0.078×) | 1.00 / 2.00 | 367.0 | 0.50 / 0.01 |",
  ));
  assert.ok(lines.includes(
    `| ${RUST} | +0.270 / +0.540 | 2,800 (0.40×) | 9,000 (0.23×) | 1.00 / 2.00 | 122.0 | 0.50 / 0.01 |`,
  ));
  assert.ok(lines.includes(
    `| ${MIKKO} | not installed (--install-peers=all builds it into /c, about 13 minutes) | | | | | |`,
  ));
  assert.ok(lines.includes(
    "| mcpstead 0.2.0 (ours) ÷ | calls/s, 32 clients | calls/s, 1 client | added p50, 1 client | CPU per call |",
  ));
  assert.ok(lines.includes(`| ${RUST} | 0.33× | 0.50× | 2.00× | 3.01× |`));
});

/** A run with sessionless 2026-07-28 clients beside 2025 sessions, and the stdio scenario. */
function runWithEraAndStdio(mcpGateway: "measured" | "skipped"): LoadResults {
  const r = run();
  r.throughput!.sides["gateway-2026"] = throughputSide(
    "mcpstead 0.2.0 (ours), sessionless 2026-07-28 clients",
    [3100, 3100],
    380,
    0.08,
  );
  const stdioSides: Record<string, ThroughputSide> = {
    peer: throughputSide("mcp-proxy@6.7.19", [2000, 2200], 540),
    gateway: throughputSide("mcpstead 0.2.0 (ours)", [18000, 19800], 50, 9),
  };
  if (mcpGateway === "measured") {
    stdioSides["mcp-gateway"] = throughputSide(
      "MikkoParkkola mcp-gateway (stdio)",
      [12000, 13200],
      65,
      6,
    );
  }
  r.stdio = {
    peer: "mcp-proxy@6.7.19",
    concurrent: { rounds: 2, clients: 32, durationMs: 1000, baseline: "peer", sides: stdioSides },
    peers: [{
      key: "mcp-gateway",
      label: "MikkoParkkola mcp-gateway (stdio)",
      crate: "mcp-gateway",
      version: "3.5.1",
      ...(mcpGateway === "measured"
        ? { bin: "/x" }
        : { skipped: "not installed (--install-peers=all)" }),
    }],
  };
  r.comparisons = compareSides(r);
  r.targets = evaluateTargets(r);
  return r;
}

Deno.test("evaluateTargets() checks our stdio path against mcp-gateway's and a 2026-07-28 call against a 2025 one", () => {
  const byWhat = new Map(runWithEraAndStdio("measured").targets.map((t) => [t.what, t]));
  // Median of 18000/12000 and 19800/13200.
  assert.equal(
    byWhat.get("stdio calls/s, 32 clients: ours ÷ MikkoParkkola mcp-gateway's")!.value,
    1.5,
  );
  assert.equal(
    byWhat.get("stdio calls/s, 32 clients: ours ÷ MikkoParkkola mcp-gateway's")!.met,
    true,
  );
  const era = byWhat.get("gateway CPU per call, 32 clients: 2026-07-28 clients ÷ 2025 sessions")!;
  assert.deepEqual([era.value, era.met], [1.035, false]);
  const skipped = new Map(runWithEraAndStdio("skipped").targets.map((t) => [t.what, t]));
  assert.equal(
    skipped.get("stdio calls/s, 32 clients: ours ÷ MikkoParkkola mcp-gateway's")!.met,
    undefined,
  );
});

Deno.test("renderMarkdown() shows mcp-gateway's stdio rows, or why it was not measured", () => {
  const measured = renderMarkdown(runWithEraAndStdio("measured")).split("\n");
  assert.ok(measured.includes(
    "| stdio, 32 sessions: calls/s, MikkoParkkola mcp-gateway (stdio) — baseline = mcp-proxy@6.7.19 | 2,000 | 12,000 | 6.0× |",
  ));
  const skipped = renderMarkdown(runWithEraAndStdio("skipped")).split("\n");
  assert.ok(skipped.includes(
    "| stdio: MikkoParkkola mcp-gateway (stdio) | skipped |  | not installed (--install-peers=all) |",
  ));
  assert.ok(skipped.some((line) => line.startsWith("| stdio, 32 sessions: calls/s, mcpstead — ")));
});
