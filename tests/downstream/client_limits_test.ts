import assert from "node:assert/strict";
import { addressOf, ClientLimits } from "../../src/downstream/client_limits.ts";
import { FakeClock } from "../_support/fake_clock.ts";

Deno.test("ClientLimits keeps no bucket while the rate limit is off", () => {
  const limits = new ClientLimits({ requests_per_second: 0, burst: 0 }, new FakeClock());
  for (let i = 0; i < 100; i++) assert.equal(limits.take(`address:10.0.0.${i}`), 0);
  assert.equal(limits.size, 0);
});

Deno.test("ClientLimits stays bounded under a flood of new keys, dropping idle buckets first", async () => {
  const clock = new FakeClock();
  const limits = new ClientLimits({ requests_per_second: 1, burst: 2 }, clock, 100);
  assert.equal(limits.take("busy"), 0);
  assert.equal(limits.take("busy"), 0);
  for (let i = 0; i < 99; i++) limits.take(`idle-${i}`);
  assert.equal(limits.size, 100);
  await clock.advance(1500);
  limits.take("new");
  assert.equal(limits.size, 2, "the idle buckets were full again and dropped; busy is not");
  assert.equal(limits.take("busy"), 0);
  assert.ok(limits.take("busy") > 0, "the busy client's bucket was kept (a new one holds 2)");
  for (let i = 0; i < 10_000; i++) limits.take(`flood-${i}`);
  assert.ok(limits.size <= 100, `${limits.size} buckets`);
});

Deno.test("addressOf() drops the port of a peer address", () => {
  assert.equal(addressOf("127.0.0.1:51234"), "127.0.0.1");
  assert.equal(addressOf("::1:51234"), "::1");
  assert.equal(addressOf("[2001:db8::1]:443"), "2001:db8::1");
  assert.equal(addressOf("unknown"), "unknown");
});
