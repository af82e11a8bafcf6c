import assert from "node:assert/strict";
import { GatewayError } from "../../src/mcp/errors.ts";
import { globMatcher, scopeMatcher } from "../../src/mcp/glob.ts";
import { CircuitBreaker } from "../../src/upstream/breaker.ts";
import { ConcurrencyLimit, RetryBudget, TokenBucket } from "../../src/upstream/limits.ts";
import { FakeClock } from "../_support/fake_clock.ts";

Deno.test("CircuitBreaker opens after N failures in the window, then lets one probe through", async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(
    "up",
    { failures: 3, window_seconds: 10, open_seconds: 5 },
    clock,
  );
  breaker.failure();
  breaker.failure();
  await clock.advance(11_000);
  breaker.failure();
  assert.equal(breaker.state, "closed", "old failures fell out of the window");
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.state, "open");
  assert.throws(
    () => breaker.admit(),
    (e) =>
      e instanceof GatewayError && e.code === "upstream_circuit_open" && e.retryAfterMs === 5000,
  );
  await clock.advance(5_000);
  assert.equal(breaker.state, "half_open");
  breaker.admit();
  assert.throws(() => breaker.admit(), /being probed/, "only one probe at a time");
  breaker.failure();
  assert.equal(breaker.state, "open", "a failed probe opens it again");
  await clock.advance(5_000);
  breaker.admit();
  breaker.success();
  assert.equal(breaker.state, "closed");
  breaker.admit();
});

Deno.test("CircuitBreaker with failures: 0 never opens", () => {
  const breaker = new CircuitBreaker(
    "up",
    { failures: 0, window_seconds: 1, open_seconds: 1 },
    new FakeClock(),
  );
  for (let i = 0; i < 100; i++) breaker.failure();
  breaker.admit();
  assert.equal(breaker.state, "closed");
});

Deno.test("TokenBucket allows a burst, then one request per refill interval", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ requests_per_second: 2, burst: 3 }, clock);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [0, 0, 0]);
  assert.equal(bucket.take(), 500);
  await clock.advance(500);
  assert.equal(bucket.take(), 0);
  assert.equal(
    new TokenBucket({ requests_per_second: 0, burst: 0 }, clock).take(),
    0,
    "0 turns it off",
  );
});

Deno.test("ConcurrencyLimit runs at most N, queues M in order and refuses the rest", async () => {
  const limit = new ConcurrencyLimit(1, 1);
  const order: string[] = [];
  const gate = Promise.withResolvers<void>();
  const first = limit.run(async () => {
    order.push("first");
    await gate.promise;
  });
  const second = limit.run(() => Promise.resolve(order.push("second")));
  assert.equal(await limit.run(() => Promise.resolve("third")), undefined, "the queue is full");
  gate.resolve();
  await first;
  await second;
  assert.deepEqual(order, ["first", "second"]);
});

Deno.test("RetryBudget earns a fraction of a retry per request and spends whole ones", () => {
  const budget = new RetryBudget(0.5);
  assert.equal(budget.spend(), true, "one retry banked at the start");
  assert.equal(budget.spend(), false);
  budget.earn();
  assert.equal(budget.spend(), false);
  budget.earn();
  assert.equal(budget.spend(), true);
});

Deno.test("globMatcher() and scopeMatcher() match names, with deny winning", () => {
  const match = globMatcher(["github__*", "docs__get_?"]);
  assert.equal(match("github__search"), true);
  assert.equal(match("docs__get_x"), true);
  assert.equal(match("docs__get_xy"), false);
  assert.equal(match("gitlab__search"), false);
  assert.equal(globMatcher([])("x"), false);
  const scope = scopeMatcher({ allow: ["*"], deny: ["*__delete_*"] });
  assert.equal(scope("a__delete_repo"), false);
  assert.equal(scope("a__create_repo"), true);
  assert.equal(globMatcher(["a.b"])("axb"), false, "dots are literal");
});
