/**
 * Prometheus metrics: a typed registry, the text-format renderer and process metrics.
 *
 * @module
 */

export { DURATION_BUCKETS, SESSION_DURATION_BUCKETS } from "./buckets.ts";
export { CONTENT_TYPE, render } from "./exposition.ts";
export type { MetricType } from "./family.ts";
export { type ProcessMetricsOptions, registerProcessMetrics } from "./process.ts";
export { readGitSha } from "./git_sha.ts";
export {
  CollectedMetric,
  type CollectedSample,
  type CollectOptions,
  Counter,
  type CounterChild,
  Gauge,
  type GaugeChild,
  Histogram,
  type HistogramChild,
  type HistogramOptions,
  type LabelValues,
  type MetricOptions,
  type RecordedOptions,
  Registry,
  type SeriesArgs,
} from "./registry.ts";
export {
  createGatewayMetrics,
  type GatewayMetrics,
  methodLabel,
  type MetricsSources,
  type UpstreamSnapshot,
} from "./gateway_metrics.ts";
