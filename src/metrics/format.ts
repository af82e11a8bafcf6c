// Text-format escaping and number spelling, shared by the registry (which pre-renders each
// series' label pairs once, when the series is created) and the renderer.
// Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/** Escapes a label value for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIAL.test(value)) return value;
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Escapes HELP text for the text format: `\` → `\\`, newline → `\n` (quotes stay as is). */
export function escapeHelp(help: string): string {
  if (!HELP_SPECIAL.test(help)) return help;
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/**
 * Spells a sample value or `le` bound the way Prometheus parses it: integers without a
 * fraction (`1`, `30`), other floats as the shortest string that round-trips (`0.005`,
 * `1.5e-7`), and `NaN`, `+Inf`, `-Inf` for the non-finite values.
 */
export function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  // String() gives the shortest round-tripping form, which Go's ParseFloat accepts; it
  // spells NaN as "NaN" and -0 as "0".
  return String(value);
}
