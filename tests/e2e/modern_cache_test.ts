// Caching hints for 2026-07-28 clients through the gateway: each list is fresh for the soonest of
// the gateway's refresh and the upstreams' own hints for it, and private when an upstream or the
// caller's scopes make it so; a read keeps its upstream's hints.
import assert from "node:assert/strict";
import { startEraFixture } from "../fixtures/era_server.ts";
import { README_URI } from "../fixtures/era_tools.ts";
import { startGateway } from "../_support/gateway.ts";
import { waitFor } from "../_support/wait.ts";
import { postModern } from "../_support/modern_rpc.ts";

/** The result of a 2026-07-28 request of a client that declares no capabilities. */
async function call(url: string, method: string, params: Record<string, unknown> = {}) {
  return (await (await postModern(url, { id: 1, method, params, capabilities: {} })).json()).result;
}

Deno.test("each list's hints are the soonest of the gateway's refresh and the upstream's for that list", async () => {
  await using fixture = await startEraFixture("modern");
  await using gw = await startGateway(
    `namespacing: never\nservers:\n  - name: up\n    url: ${fixture.url}\n    tools: { ttl_seconds: 120 }\n`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  const tools = await call(gw.url, "tools/list");
  assert.equal(tools.ttlMs, 60_000);
  assert.equal(tools.cacheScope, "public");
  const resources = await call(gw.url, "resources/list");
  assert.equal(resources.ttlMs, 40_000);
  assert.equal(resources.cacheScope, "private");
  const read = await call(gw.url, "resources/read", { uri: README_URI });
  assert.equal(read.ttlMs, 20_000);
  assert.equal(read.cacheScope, "private");
  // Nothing upstream bounds server/discover: the configured refresh (120 s) does.
  const discover = await call(gw.url, "server/discover");
  assert.equal(discover.ttlMs, 120_000);
});
