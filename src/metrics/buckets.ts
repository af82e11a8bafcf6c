// Bucket bounds of the gateway we replace (research/mcpstead.md §8.2), kept so dashboards built
// on its histograms keep working.

/** Request and call duration buckets in seconds: 5 ms to 30 s (`+Inf` is implied). */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
]);

/** Downstream session duration buckets in seconds: 1 s to 6 h (`+Inf` is implied). */
export const SESSION_DURATION_BUCKETS: readonly number[] = Object.freeze([
  1,
  5,
  10,
  30,
  60,
  300,
  900,
  1800,
  3600,
  21600,
]);
