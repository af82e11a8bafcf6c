// Prometheus text exposition format 0.0.4.
// Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
// Strict parsers (Go expfmt, `promtool check metrics`) reject a second HELP or TYPE line for a
// family, which is the bug of the Rust gateway we replace (research/mcpstead.md §8.2): here each
// family writes its HELP and TYPE exactly once, before all of its samples.

import type { Family, HistogramSeries } from "./family.ts";
import { escapeHelp, formatNumber } from "./format.ts";
import { familiesOf, type Registry } from "./registry.ts";

/** The `Content-Type` of `render()`'s output. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Renders every family of `registry` in registration order, series in first-seen order. A
 * family with no samples still gets its HELP and TYPE lines. Each line ends in `\n`. An error
 * thrown by a `collect` callback propagates.
 */
export function render(registry: Registry): string {
  let out = "";
  for (const family of familiesOf(registry)) {
    out += `# HELP ${family.name} ${
      escapeHelp(family.help)
    }\n# TYPE ${family.name} ${family.type}\n`;
    out += family.type === "histogram"
      ? renderHistogram(family as Family<HistogramSeries>)
      : renderScalar(family);
  }
  return out;
}

function renderScalar(family: Family): string {
  const name = family.name;
  let out = "";
  const samples: Iterable<{ readonly labelPairs: string; readonly value: number }> =
    family.collected ? family.collect() : family.series as Iterable<
      { readonly labelPairs: string; readonly value: number }
    >;
  for (const { labelPairs, value } of samples) {
    out += labelPairs === ""
      ? `${name} ${formatNumber(value)}\n`
      : `${name}{${labelPairs}} ${formatNumber(value)}\n`;
  }
  return out;
}

function renderHistogram(family: Family<HistogramSeries>): string {
  const name = family.name;
  const le = family.le;
  let out = "";
  for (const series of family.series) {
    const prefix = series.labelPairs === ""
      ? `${name}_bucket{le="`
      : `${name}_bucket{${series.labelPairs},le="`;
    const counts = series.counts;
    let cumulative = 0;
    for (let i = 0; i < le.length; i++) {
      cumulative += counts[i]!;
      out += `${prefix}${le[i]}"} ${formatNumber(cumulative)}\n`;
    }
    // `+Inf` equals `_count` by definition; using the count keeps the two consistent.
    out += `${prefix}+Inf"} ${formatNumber(series.count)}\n`;
    const labels = series.labelPairs === "" ? "" : `{${series.labelPairs}}`;
    out += `${name}_sum${labels} ${formatNumber(series.sum)}\n`;
    out += `${name}_count${labels} ${formatNumber(series.count)}\n`;
  }
  return out;
}
