/**
 * What reaches a 2025 session outside its requests, across replicas: a notification caused
 * through one replica arrives on the GET stream another holds; a GET stream reopened on another
 * replica with Last-Event-ID gets what it missed; a server→client request raised during a call
 * is answered through another replica; subscriptions made at once through several replicas are
 * all kept.
 */
import assert from "node:assert/strict";
import { postJsonRpc } from "../_support/client.ts";
import { upstream } from "../_support/gateway.ts";
import {
  Client,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
  StreamableHTTPClientTransport,
} from "../_support/sdk.ts";
import { requireTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";
import { SseDecoderStream } from "../../src/http/sse.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { clusterYaml, sessionHeaders, startRedis, startReplicas } from "./_harness.ts";

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a resource update caused through one replica reaches the GET stream of another",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const client = new Client({ name: "rr-client", version: "1.0.0" });
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(replicas.urls[0]!), {
        fetch: replicas.roundRobin,
      }),
    );
    const uri = (await client.listResources()).resources[0]!.uri;
    await client.subscribeResource({ uri });
    // Each call goes through another replica than the subscription and the GET stream.
    for (let i = 0; i < 3; i++) {
      await client.callTool({ name: "a__touch", arguments: { uri: "fixture://a/info" } });
    }
    await waitFor(() => updates.length === 3, "three updates on the GET stream");
    assert.deepEqual(updates, [uri, uri, uri]);
    await client.close();
  },
}));

/** Opens a GET stream on `url` and returns a reader of its events (id and data). */
async function openStream(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers: { ...headers, accept: "text/event-stream" } });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new SseDecoderStream())
    .getReader();
  return {
    async next(): Promise<{ id: string; data: string }> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        if (value.data !== "") return { id: value.id ?? "", data: value.data };
      }
    },
    close: () => reader.cancel(),
  };
}

Deno.test(requireTool(["redis-server"], {
  name: "cluster: a GET stream reopened on another replica with Last-Event-ID gets what it missed",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const [a, b, c] = replicas.urls as [string, string, string];
    const headers = await sessionHeaders(a);
    /** A call whose upstream sends a log message on its own session stream, not the call's. */
    const call = async (url: string, id: number) => {
      const res = await postJsonRpc(url, {
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "a__log", arguments: { count: 1, unrelated: true } },
      }, { ...headers, accept: "application/json" });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    };
    const level = await postJsonRpc(c, {
      jsonrpc: "2.0",
      id: 1,
      method: "logging/setLevel",
      params: { level: "info" },
    }, headers);
    await level.body?.cancel();
    const first = await openStream(a, headers);
    await call(b, 2);
    const seen = await first.next();
    assert.match(seen.id, /^\d+-\d+$/);
    await first.close();
    await call(c, 3);
    await call(a, 4);
    const resumed = await openStream(b, { ...headers, "last-event-id": seen.id });
    const missed = [await resumed.next(), await resumed.next()];
    assert.deepEqual(missed.map((e) => JSON.parse(e.data).params.data), ["a:log 1", "a:log 1"]);
    assert.ok(missed[0]!.id > seen.id && missed[1]!.id > missed[0]!.id, "ordered event ids");
    await resumed.close();
  },
}));

Deno.test(requireTool(["redis-server"], {
  name: "cluster: an elicitation during a call is answered through another replica",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const client = new Client({ name: "rr-client", version: "1.0.0" }, {
      capabilities: { elicitation: {} },
    });
    client.setRequestHandler(ElicitRequestSchema, (request) => ({
      action: "accept",
      content: { answer: `yes to ${request.params.message}` },
    }));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(replicas.urls[0]!), {
        fetch: replicas.roundRobin,
      }),
    );
    for (let i = 0; i < 3; i++) {
      const result = await client.callTool({
        name: "a__elicit",
        arguments: { message: `q${i}` },
      });
      assert.deepEqual(result.content, [{ type: "text", text: `a:accept:yes to q${i}` }]);
    }
    await client.close();
  },
}));

Deno.test(requireTool(["redis-server"], {
  name:
    "cluster: subscriptions made at once through several replicas are all kept, and each resource's update arrives",
  async fn({ "redis-server": redisServer }) {
    await using redis = await startRedis(redisServer);
    await using fixture = await startHttpFixture({ name: "a" });
    await using replicas = await startReplicas(
      `${clusterYaml(redis)}servers:\n${upstream("a", fixture.url)}`,
    );
    const { urls } = replicas;
    const headers = await sessionHeaders(urls[0]!);
    const listed = await postJsonRpc(
      urls[0]!,
      { jsonrpc: "2.0", id: 1, method: "resources/list" },
      {
        ...headers,
        accept: "application/json",
      },
    );
    const info = ((await listed.json()).result.resources as Array<{ uri: string }>)[0]!.uri;
    const prefix = info.slice(0, info.indexOf("fixture://"));
    const count = 200;
    let id = 10;
    const call = async (url: string, method: string, params: unknown) => {
      const res = await postJsonRpc(url, { jsonrpc: "2.0", id: id++, method, params }, {
        ...headers,
        accept: "application/json",
      });
      const body = await res.json();
      assert.equal(body.error, undefined, JSON.stringify(body));
    };
    // Batches of 50 subscriptions at once, each to the next replica.
    for (let batch = 0; batch < count; batch += 50) {
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            call(urls[(batch + i) % urls.length]!, "resources/subscribe", {
              uri: `${prefix}fixture://a/item/${batch + i}`,
            }),
        ),
      );
    }
    const stream = await openStream(urls[1]!, headers);
    for (let i = 0; i < count; i++) {
      await call(urls[i % urls.length]!, "tools/call", {
        name: "a__touch",
        arguments: { uri: `fixture://a/item/${i}` },
      });
    }
    const updated = new Set<string>();
    const reading = (async () => {
      for (;;) {
        const message = JSON.parse((await stream.next()).data);
        if (message.method === "notifications/resources/updated") updated.add(message.params.uri);
      }
    })().catch(() => {});
    await waitFor(() => updated.size === count, `${count} updates`, { timeoutMs: 10_000 })
      .catch(() => {});
    await stream.close();
    await reading;
    const missing = Array.from({ length: count }, (_, i) => `${prefix}fixture://a/item/${i}`)
      .filter((uri) => !updated.has(uri));
    assert.deepEqual(missing, []);
  },
}));
