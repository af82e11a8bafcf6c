/**
 * Forwarding between replicas: a per-session stdio instance lives on the replica that started
 * it and serves the session's requests wherever they land; when that replica is gone the client
 * gets a clear error once (from whichever replica notices first) and a new instance after; a 2026-07-28 client's MRTR retry that lands
 * on another replica reaches the flow; a forged forwarding header is refused.
 */
import assert from "node:assert/strict";
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import { postJsonRpc } from "../_support/client.ts";
import { upstream } from "../_support/gateway.ts";
import { stdioUpstream } from "../_support/procs.ts";
import { requireTool } from "../_support/tools.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import {
  clusterYaml,
  type RedisServer,
  sessionHeaders,
  startRedis,
  startReplicas,
} from "./_harness.ts";

/** Calls the stdio fixture's `count` tool (how often this process ran it) through `url`. */
async function count(url: string, headers: Record<string, string>, id: number) {
  const res = await postJsonRpc(url, {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "s__count", arguments: {} },
  }, { ...headers, accept: "application/json" });
  assert.equal(res.status, 200);
  return await res.json();
}

/** A cluster on `redis` in front of one stdio server `s` with an instance per session. */
function perSessionYaml(redis: RedisServer): string {
  return `${clusterYaml(redis)}servers:\n${
    stdioUpstream("s", { extra: "    sharing: per_session\n" })
  }`;
}

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a per_session stdio instance started on A serves the session through B and C",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using replicas = await startReplicas(perSessionYaml(redis));
    const [a, b, c] = replicas.urls as [string, string, string];
    const headers = await sessionHeaders(a);
    const texts: string[] = [];
    for (const [i, url] of [a, b, c, b].entries()) {
      texts.push((await count(url, headers, i + 1)).result.content[0].text);
    }
    assert.deepEqual(texts, ["1", "2", "3", "4"]);

    // A is gone: the next call learns it with a clear error, the one after gets a new instance.
    await replicas.gateways[0]!.close();
    const lost = await count(b, headers, 10);
    assert.equal(lost.error.code, -32000);
    assert.match(
      lost.error.message,
      /Cannot reach the upstream instance of 's' for this client: the replica '[0-9a-f]+' that held it is gone/,
    );
    assert.equal((await count(c, headers, 11)).result.content[0].text, "1");
    assert.equal((await count(b, headers, 12)).result.content[0].text, "2");
  },
}));

Deno.test(requireTool(["redis-server"], {
  name:
    "cluster: two replicas that find the holder gone at once: one reports the loss, the other's call runs on the new instance",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using replicas = await startReplicas(perSessionYaml(redis));
    const [a, b, c] = replicas.urls as [string, string, string];
    const headers = await sessionHeaders(a);
    for (const [i, url] of [a, b, c].entries()) {
      assert.equal((await count(url, headers, i + 1)).result.content[0].text, String(i + 1));
    }

    // B and C both still know A as the holder; one takes over, the other must follow it.
    await replicas.gateways[0]!.close();
    const answers = await Promise.all([count(b, headers, 10), count(c, headers, 11)]);
    const lost = answers.filter((answer) => answer.error !== undefined);
    assert.equal(lost.length, 1, JSON.stringify(answers));
    assert.match(lost[0].error.message, /the replica '[0-9a-f]+' that held it is gone/);
    const served = answers.find((answer) => answer.result !== undefined);
    assert.equal(served.result.content[0].text, "1");
    assert.equal((await count(b, headers, 12)).result.content[0].text, "2");
    assert.equal((await count(c, headers, 13)).result.content[0].text, "3");
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: in meta-tool mode gateway_invoke reaches the session's per_session instance on A",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}mcp:\n  tools_mode: meta\nservers:\n${
        stdioUpstream("s", { extra: "    sharing: per_session\n" })
      }`,
    );
    const [a, b, c] = replicas.urls as [string, string, string];
    const headers = { ...await sessionHeaders(a), accept: "application/json" };
    const texts: string[] = [];
    for (const [i, url] of [a, b, c, b].entries()) {
      const res = await postJsonRpc(url, {
        jsonrpc: "2.0",
        id: i + 1,
        method: "tools/call",
        params: { name: "gateway_invoke", arguments: { name: "s__count", arguments: {} } },
      }, headers);
      assert.equal(res.status, 200);
      texts.push((await res.json()).result.content[0].text);
    }
    assert.deepEqual(texts, ["1", "2", "3", "4"]);
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a 2026-07-28 client's MRTR retry that lands on another replica reaches its flow",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const client = new ModernClient({ name: "modern", version: "1.0.0" }, {
      capabilities: { elicitation: {} },
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    client.setRequestHandler("elicitation/create", (request) => ({
      action: "accept",
      content: { answer: `yes to ${request.params.message}` },
    }));
    await client.connect(
      new ModernTransport(new URL(replicas.urls[0]!), { fetch: replicas.roundRobin }),
    );
    for (let i = 0; i < 3; i++) {
      const result = await client.callTool({ name: "a__elicit", arguments: { message: `q${i}` } });
      assert.deepEqual(result.content, [{ type: "text", text: `a:accept:yes to q${i}` }]);
    }
    await client.close();
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a request with a forged forwarding header gets 403",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
      1,
    );
    const forged = await postJsonRpc(replicas.urls[0]!, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/list",
    }, { "x-mcpstead-forwarded": `v1.${Date.now()}.abc.YQ.AAAA` });
    assert.equal(forged.status, 403);
    assert.deepEqual(await forged.json(), {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "Forbidden: not a request of a replica" },
    });
  },
}));
