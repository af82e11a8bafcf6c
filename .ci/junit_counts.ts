/**
 * Prints "N passed, N failed, N skipped" for a `deno test` run, from its `--junit-path` report
 * (one count per test case, steps included) and, when given, its console output: a test file
 * that threw while loading, or an error no test caught, is missing from the report and only
 * named in the output as `./<file> (uncaught error)`; each such file counts as one failure.
 *
 * Usage: deno run --allow-read .ci/junit_counts.ts <junit.xml> [<test output>]
 */

/** The counts of one test run. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts the test cases of a JUnit report, and the uncaught errors named in the run's output. */
export function countRun(xml: string, output = ""): Counts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const inner = match[2] ?? "";
    if (/<(failure|error)\b/.test(inner)) counts.failed++;
    else if (/<skipped\b/.test(inner)) counts.skipped++;
    else counts.passed++;
  }
  // deno-lint-ignore no-control-regex -- the output's colour codes
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const uncaught = new Set(
    [...plain.matchAll(/^(\S+) \(uncaught error\)$/gm)].map((match) => match[1]),
  );
  counts.failed += uncaught.size;
  return counts;
}

/** The closing line of a run. */
export function formatCounts(counts: Counts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

if (import.meta.main) {
  const [report, output] = Deno.args;
  const xml = await Deno.readTextFile(report!);
  const log = output === undefined ? "" : await Deno.readTextFile(output);
  // deno-lint-ignore no-console -- this script exists to print the summary line
  console.log(formatCounts(countRun(xml, log)));
}
