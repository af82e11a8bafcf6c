/**
 * 2025 sessions across three replicas behind a round-robin balancer: the SDK client's whole
 * session life cycle, a DELETE seen by every replica at once, 1,000 sessions with no "session
 * not found", and session caps that hold across replicas.
 */
import assert from "node:assert/strict";
import { initialize, postJsonRpc, PROTOCOL_VERSION } from "../_support/client.ts";
import { type RunningGateway, upstream } from "../_support/gateway.ts";
import { Client, StreamableHTTPClientTransport } from "../_support/sdk.ts";
import { requireTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import {
  clusterYaml,
  roundRobinFetch,
  sessionHeaders,
  startRedis,
  startReplicas,
} from "./_harness.ts";

Deno.test(requireTool(["redis-server"], {
  name: "cluster: an SDK client's session works when each request goes to another replica",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const client = new Client({ name: "rr-client", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(replicas.urls[0]!), {
      fetch: replicas.roundRobin,
    });
    await client.connect(transport);
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.some((t) => t.name === "a__echo"), true);
    for (let i = 0; i < 6; i++) {
      const result = await client.callTool({ name: "a__echo", arguments: { text: `hi ${i}` } });
      assert.deepEqual(result.content, [{ type: "text", text: `a:hi ${i}` }]);
    }
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    // Every replica knows within half a second that the session ended.
    for (const url of replicas.urls) {
      await waitFor(
        async () => {
          const after = await postJsonRpc(url, { jsonrpc: "2.0", id: 9, method: "tools/list" }, {
            "mcp-session-id": sessionId,
            "mcp-protocol-version": PROTOCOL_VERSION,
          });
          await after.body?.cancel();
          return after.status === 404;
        },
        `replica ${url} to forget the ended session`,
        { timeoutMs: 500 },
      );
    }
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a DELETE on one replica is seen by the others within half a second",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const [a, b, c] = replicas.urls as [string, string, string];
    const headers = await sessionHeaders(a);
    // Every replica holds the session (cached) before it is ended.
    for (const url of [a, b, c]) {
      const res = await postJsonRpc(url, { jsonrpc: "2.0", id: 1, method: "ping" }, headers);
      assert.deepEqual(res.status, 200);
      await res.body?.cancel();
    }
    const deleted = await fetch(b, { method: "DELETE", headers });
    assert.deepEqual(deleted.status, 204);
    const started = performance.now();
    for (const url of [a, c]) {
      for (;;) {
        const res = await postJsonRpc(url, { jsonrpc: "2.0", id: 2, method: "ping" }, headers);
        await res.body?.cancel();
        if (res.status === 404) break;
        if (performance.now() - started > 500) throw new Error(`${url} still serves the session`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: 1,000 sessions round-robin get no 'session not found'",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const robin = roundRobinFetch(replicas.urls);
    const statuses = new Map<number, number>();
    const one = async (n: number) => {
      const init = await robin.fetch(replicas.urls[0]!, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: {
            protocolVersion: PROTOCOL_VERSION,
            capabilities: {},
            clientInfo: { name: "n" },
          },
        }),
      });
      await init.body?.cancel();
      const headers = {
        "content-type": "application/json",
        accept: "application/json",
        "mcp-session-id": init.headers.get("mcp-session-id") ?? "",
        "mcp-protocol-version": PROTOCOL_VERSION,
      };
      for (let i = 1; i <= 2; i++) {
        const res = await robin.fetch(replicas.urls[0]!, {
          method: "POST",
          headers,
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: i,
            method: "tools/call",
            params: { name: "a__echo", arguments: { text: String(n) } },
          }),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const body = await res.json();
        assert.deepEqual(body.result?.content?.[0]?.text, `a:${n}`);
      }
    };
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => one(batch + i)));
    }
    assert.deepEqual(Object.fromEntries(statuses), { 200: 2000 });
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: session caps hold across replicas (the least recently used idle session ends)",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}mcp:\n  limits:\n    max_sessions: 2\nservers:\n${
        upstream("a", fixture.url)
      }`,
    );
    const [a, b, c] = replicas.urls as [string, string, string];
    const first = await initialize(a);
    await initialize(b);
    // Both sessions are too fresh to count as idle: the cap refuses a third.
    const refused = await postJsonRpc(c, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "x" } },
    });
    assert.deepEqual(refused.status, 429);
    assert.match((await refused.json()).error.message, /all 2 sessions the gateway holds/);
    // Once the first session has been idle for a while, a third takes its place.
    await waitFor(
      async () => {
        const third = await postJsonRpc(c, {
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: {
            protocolVersion: PROTOCOL_VERSION,
            capabilities: {},
            clientInfo: { name: "x" },
          },
        });
        await third.body?.cancel();
        return third.status === 200;
      },
      "a session to become idle enough to evict",
      { timeoutMs: 6000, intervalMs: 200 },
    );
    const evicted = await postJsonRpc(b, { jsonrpc: "2.0", id: 1, method: "ping" }, {
      "mcp-session-id": first.sessionId,
      "mcp-protocol-version": PROTOCOL_VERSION,
    });
    assert.deepEqual(evicted.status, 404);
    await evicted.body?.cancel();
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a reload applies to one replica and the others report its different config",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    const yaml = `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`;
    await using replicas = await startReplicas(yaml);
    const [first, second] = replicas.gateways as [RunningGateway, RunningGateway];
    const node = (g: RunningGateway) => g.gateway.health().cluster?.node;
    assert.equal(second.gateway.health().cluster?.status, "ok");
    first.rewrite(`${yaml}    timeout: 30\n`);
    await first.gateway.reload();
    await waitFor(
      () =>
        JSON.stringify(second.gateway.health().cluster?.config_differs_on) ===
          JSON.stringify([node(first)]),
      "the second replica to see the first one's new config",
    );
    assert.equal(second.gateway.health().cluster?.status, "degraded");
    assert.equal(second.gateway.health().status, "degraded");
    // The second replica still runs its own config: the reload reached only the first.
    assert.notEqual(
      first.gateway.health().cluster?.config_digest,
      second.gateway.health().cluster?.config_digest,
    );
  },
}));
