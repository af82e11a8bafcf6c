/**
 * Reads the official conformance suite's output, line by line, into the one
 * `Total: N passed, M failed` line `run.ts` prints last (and CI greps).
 *
 * - 0.1.16 (the 2025 suite) prints that line itself; a one-scenario run prints
 *   `Passed: P/D, F failed, W warnings` instead.
 * - 0.2.0-alpha.12 with `--requirements 2026-07-28` prints a `Total:` over every scenario it
 *   ran, the unscored ones (tasks-* extensions, pending) included, then lists those under
 *   "Not scored for 2026-07-28". Only required scenarios decide conformance (and the suite's
 *   exit code), so the tally sums the `✓|✗ <scenario>: P passed, F failed` summary lines of the
 *   required ones.
 *
 * @module
 */

/** A scenario's checks, from its summary line. */
interface ScenarioCount {
  passed: number;
  failed: number;
}

/** Counts what the suite printed. */
export class SuiteTally {
  #total: string | undefined;
  #single: string | undefined;
  readonly #scenarios = new Map<string, ScenarioCount>();
  readonly #notScored = new Set<string>();
  #inNotScored = false;

  /** Reads one line of the suite's stdout (ANSI colours already stripped, trimmed). */
  read(line: string): void {
    if (/^Total: \d+ passed, \d+ failed/.test(line)) this.#total = line;
    // A one-scenario run ends with "Passed: P/D, F failed, W warnings" instead.
    const passed = /^Passed: (\d+)\/\d+, (\d+) failed/.exec(line);
    if (passed !== null) this.#single = `Total: ${passed[1]} passed, ${passed[2]} failed`;
    if (line.startsWith("Not scored for ")) this.#inNotScored = true;
    const scenario = /^[✓✗] (\S+)(?:: (\d+) passed, (\d+) failed| \((.+)\))$/.exec(line);
    if (scenario === null) return;
    const [, name, ok, failed] = scenario;
    if (this.#inNotScored) this.#notScored.add(name!);
    else if (ok !== undefined) {
      this.#scenarios.set(name!, { passed: Number(ok), failed: Number(failed) });
    }
  }

  /** The suite's own total, or a one-scenario run's (the 2025 suite, or any single scenario). */
  suiteTotal(): string | undefined {
    return this.#total ?? this.#single;
  }

  /**
   * For a `--requirements` run: how many required scenarios passed, and the checks of the
   * required scenarios as a `Total:` line; undefined when the suite printed no summary.
   */
  requiredTotal(): { scenarios: string; total: string } | undefined {
    const required = [...this.#scenarios].filter(([name]) => !this.#notScored.has(name));
    if (required.length === 0) return undefined;
    const clean = required.filter(([, count]) => count.failed === 0).length;
    const sum = (key: keyof ScenarioCount) => required.reduce((n, [, c]) => n + c[key], 0);
    return {
      scenarios: `Required scenarios: ${clean} of ${required.length} pass`,
      total: `Total: ${sum("passed")} passed, ${sum("failed")} failed`,
    };
  }
}
