import assert from "node:assert/strict";
import { clusterMarkdown } from "../../bench/load_cluster.ts";
import type { LatencySide, ThroughputSide } from "../../bench/load_report.ts";
import { summarize } from "../../bench/stats.ts";

const latency = (label: string, p50: number, added?: number): LatencySide => ({
  label,
  latency: summarize([p50]),
  rps: 1000 / p50,
  ...(added === undefined ? {} : { addedP50: added, addedP99: added * 2 }),
});

const throughput = (label: string, rps: number, ratio?: number): ThroughputSide => ({
  label,
  rps,
  perRound: [rps],
  ...(ratio === undefined ? {} : { ratio }),
  latency: summarize([1]),
  errors: 0,
  cpuPerCallUs: {},
  cores: {},
});

Deno.test("clusterMarkdown() shows added latency, throughput and store round trips per side", () => {
  const text = clusterMarkdown({
    replicas: 3,
    latency: {
      rounds: 1,
      callsPerRound: 10,
      baseline: "one",
      sides: {
        one: latency("one process", 0.43),
        cluster: latency("3 replicas, round robin", 0.59, 0.16),
      },
      perRound: [],
    },
    throughput: {
      rounds: 1,
      clients: 32,
      durationMs: 600,
      baseline: "one",
      sides: {
        one: throughput("one process", 3882),
        cluster: throughput("3 replicas, round robin", 2752, 0.709),
      },
    },
    roundTripsPerCall: { cluster: 0.004 },
    backgroundPerSecond: 3,
  });
  assert.equal(
    text,
    "| side | p50 ms (1 client) | added p50 | added p99 | calls/s (32 clients) | vs one process | store round trips per call |\n" +
      "| --- | --- | --- | --- | --- | --- | --- |\n" +
      "| one process | 0.430 | – | – | 3,882 |  | 0 (no store) |\n" +
      "| 3 replicas, round robin | 0.590 | 0.160 | 0.320 | 2,752 | 0.71× | 0.004 |\n" +
      "\nBackground store round trips (heartbeats, activity, sweeps): 3 per second for the 3 replicas.\n",
  );
});
