import assert from "node:assert/strict";
import { SuiteTally } from "./suite_tally.ts";

function tally(lines: string[]): SuiteTally {
  const result = new SuiteTally();
  for (const line of lines) result.read(line);
  return result;
}

Deno.test("SuiteTally.requiredTotal() sums required scenarios and leaves the unscored out", () => {
  const result = tally([
    "=== SUMMARY ===",
    "✓ server-stateless: 30 passed, 0 failed",
    "✗ caching: 1 passed, 7 failed",
    "✗ tasks-lifecycle: 1 passed, 8 failed",
    "✓ tasks-status-notifications: 0 passed, 0 failed",
    "",
    "Total: 32 passed, 15 failed",
    "",
    "Not scored for 2026-07-28: 2 scenario(s) run, 1 failing. These do not affect conformance.",
    "  ✗ tasks-lifecycle (extension)",
    "  ✓ tasks-status-notifications (extension)",
  ].map((line) => line.trim()));
  assert.equal(result.suiteTotal(), "Total: 32 passed, 15 failed");
  assert.deepEqual(result.requiredTotal(), {
    scenarios: "Required scenarios: 1 of 2 pass",
    total: "Total: 31 passed, 7 failed",
  });
});

Deno.test("SuiteTally.suiteTotal() reads a one-scenario run's Passed line", () => {
  const result = tally(["Passed: 4/4, 0 failed, 0 warnings"]);
  assert.equal(result.suiteTotal(), "Total: 4 passed, 0 failed");
  assert.equal(result.requiredTotal(), undefined);
});
