import assert from "node:assert/strict";
import { parseConfig } from "../src/config/mod.ts";
import { keptOnReload } from "../src/reload.ts";

const config = (text: string) => parseConfig(text, "c.yaml", () => undefined);

Deno.test("keptOnReload() takes the new file but keeps what only a restart changes", () => {
  const current = config(
    "host: 127.0.0.1\nport: 8766\nlogging:\n  level: info\nmcp:\n  session:\n    idle_ttl_seconds: 60\n" +
      "cluster:\n  redis_url: redis://127.0.0.1:6379/0\nservers: []\n",
  );
  const next = config(
    "host: 127.0.0.2\nport: 9000\nlogging:\n  level: debug\nmcp:\n  session:\n    idle_ttl_seconds: 5\n" +
      "  rate_limit:\n    requests_per_second: 10\nservers: []\n",
  );
  const kept = keptOnReload(current, next);
  assert.equal(kept.host, "127.0.0.1");
  assert.equal(kept.port, 8766);
  assert.deepEqual(kept.logging, current.logging);
  assert.deepEqual(kept.cluster, current.cluster);
  assert.deepEqual(kept.mcp.session, current.mcp.session);
  assert.deepEqual(kept.mcp.rate_limit, next.mcp.rate_limit);
});

Deno.test("keptOnReload() never starts a cluster that the running gateway does not have", () => {
  const current = config("servers: []\n");
  const next = config("cluster:\n  redis_url: redis://127.0.0.1:6379/0\nservers: []\n");
  assert.equal(keptOnReload(current, next).cluster, undefined);
});
