import assert from "node:assert/strict";
import { backoffDelay } from "../../src/upstream/backoff.ts";

const policy = { backoff_base_ms: 100, backoff_max_ms: 1000 };

Deno.test("backoffDelay() doubles from the base and caps at the maximum", () => {
  const top = () => 0.999999;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, top)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("backoffDelay() jitters between half and all of the nominal delay", () => {
  assert.equal(backoffDelay(policy, 3, () => 0), 200);
  assert.equal(backoffDelay(policy, 3, () => 0.5), 300);
  const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(policy, 3, Math.random)));
  assert.ok(seen.size > 5, "jitter spreads delays");
  for (const value of seen) assert.ok(value >= 200 && value <= 400);
});

Deno.test("backoffDelay() never returns less than 1 ms, even with a zero base", () => {
  assert.equal(backoffDelay({ backoff_base_ms: 0, backoff_max_ms: 0 }, 1, () => 0), 1);
});

Deno.test("backoffDelay() does not overflow for huge failure counts", () => {
  assert.equal(backoffDelay(policy, 10_000, () => 0.999999), 1000);
});
