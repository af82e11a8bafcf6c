import assert from "node:assert/strict";
import { SessionInstances } from "../../src/upstream/instances.ts";
import type { UpstreamClient } from "../../src/upstream/supervisor.ts";
import { silentLogger } from "../../src/log.ts";

/** A client that connects at once and records that it was closed. */
function fakeClient(closed: string[], key: () => string): UpstreamClient {
  return {
    transport: { kind: "stdio" },
    era: "legacy",
    initializeResult: undefined,
    connect: () =>
      Promise.resolve({ protocolVersion: "2025-11-25", capabilities: {}, serverInfo: {} }),
    request: () => Promise.resolve({}),
    notify: () => Promise.resolve(),
    close: () => {
      closed.push(key());
      return Promise.resolve();
    },
  };
}

Deno.test("SessionInstances.releaseIdle() closes only instances idle long enough whose caller has no session", async () => {
  let now = 1_000;
  const closed: string[] = [];
  let creating = "";
  const instances = new SessionInstances({
    server: "s",
    maxInstances: 10,
    createClient: () => {
      const key = creating;
      return fakeClient(closed, () => key);
    },
    onNotification: () => {},
    onRequest: () => Promise.resolve({}),
    log: silentLogger,
    now: () => now,
  });
  const use = (id: string) => {
    creating = id;
    return instances.get({ id, capabilities: {} }, new AbortController().signal);
  };
  await use("identity:alice");
  await use("identity:bob");
  await use("session-1");
  now += 30_000;
  await use("identity:bob");
  now += 31_000;
  await Promise.all(instances.releaseIdle(60_000, (key) => key.startsWith("identity:")));
  assert.deepEqual(
    closed,
    ["identity:alice"],
    "bob was used 31 s ago; session-1 still has a session",
  );
  assert.equal(instances.size, 2);
  now += 30_000;
  await Promise.all(instances.releaseIdle(60_000, () => true));
  assert.deepEqual(closed.sort(), ["identity:alice", "identity:bob", "session-1"]);
  assert.equal(instances.size, 0);
});
