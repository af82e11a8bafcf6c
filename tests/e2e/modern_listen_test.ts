// subscriptions/listen of a 2026-07-28 client through the gateway: acknowledged first with what
// the gateway honours, list changes and updates of the resources it subscribed to (of a legacy
// upstream, which the gateway subscribes to on its behalf), each tagged with the subscription id.
import assert from "node:assert/strict";
import { SseDecoderStream, type SseEvent } from "../../src/http/sse.ts";
import { gatewayOverTwo } from "../_support/gateway.ts";
import { ENVELOPE, postModern } from "../_support/modern_rpc.ts";

const SUBSCRIPTION = ENVELOPE.subscriptionId;

/** POSTs a 2026-07-28 request of a client that declares no capabilities. */
function post(url: string, id: number, method: string, params: Record<string, unknown>) {
  return postModern(url, { id, method, params, capabilities: {} });
}

Deno.test("subscriptions/listen delivers tagged list changes and updates of subscribed resources", async () => {
  await using two = await gatewayOverTwo();
  const url = two.gw.url;
  const listen = await post(url, 41, "subscriptions/listen", {
    notifications: {
      toolsListChanged: true,
      resourceSubscriptions: [
        "a+fixture://a/info",
        "nobody+x://1",
        "b+fixture://b/info",
      ],
    },
  });
  assert.equal(listen.status, 200);
  assert.equal(listen.headers.get("content-type"), "text/event-stream");
  const reader = listen.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
    new SseDecoderStream(),
  )
    .getReader();
  const next = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the listen stream ended");
      if ((value as SseEvent).data !== "") return JSON.parse(value.data);
    }
  };
  const ack = await next();
  assert.equal(ack.method, "notifications/subscriptions/acknowledged");
  assert.equal(ack.params._meta[SUBSCRIPTION], 41);
  assert.deepEqual(ack.params.notifications, {
    toolsListChanged: true,
    resourceSubscriptions: ["a+fixture://a/info", "b+fixture://b/info"],
  });

  const touched = await post(url, 42, "tools/call", {
    name: "a__touch",
    arguments: { uri: "fixture://a/info" },
  });
  assert.equal(touched.status, 200);
  await touched.body?.cancel();
  const update = await next();
  assert.deepEqual(update, {
    jsonrpc: "2.0",
    method: "notifications/resources/updated",
    params: { uri: "a+fixture://a/info", _meta: { [SUBSCRIPTION]: 41 } },
  });

  const added = await post(url, 43, "tools/call", {
    name: "a__add_tool",
    arguments: { name: "later" },
  });
  await added.body?.cancel();
  const changed = await next();
  assert.deepEqual(changed, {
    jsonrpc: "2.0",
    method: "notifications/tools/list_changed",
    params: { _meta: { [SUBSCRIPTION]: 41 } },
  });
  await reader.cancel();
});

Deno.test("subscriptions/listen holds the cap of 32 streams per client when 40 open at once, each subscribing to a resource", async () => {
  await using two = await gatewayOverTwo();
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      post(two.gw.url, 100 + i, "subscriptions/listen", {
        notifications: { resourceSubscriptions: [`a+fixture://a/items/${i}`] },
      })),
  );
  const streams = answers.filter((r) => r.headers.get("content-type") === "text/event-stream");
  const refused = answers.filter((r) => r.headers.get("content-type") !== "text/event-stream");
  const refusals = await Promise.all(refused.map((r) => r.json()));
  await Promise.all(streams.map((r) => r.body?.cancel()));
  assert.equal(streams.length, 32);
  assert.deepEqual(
    [...new Set(refusals.map((r) => r.error.message))],
    ["Too many open subscriptions/listen streams for this client"],
  );
  // The closed streams gave their slots back.
  const again = await Promise.all(
    Array.from({ length: 32 }, (_, i) => post(two.gw.url, 200 + i, "subscriptions/listen", {})),
  );
  assert.deepEqual(
    again.map((r) => r.headers.get("content-type")),
    again.map(() => "text/event-stream"),
  );
  await Promise.all(again.map((r) => r.body?.cancel()));
});

Deno.test("subscriptions/listen refuses more than 1,000 resource subscriptions in one stream, before subscribing any upstream", async () => {
  await using two = await gatewayOverTwo();
  const uris = Array.from({ length: 1001 }, (_, i) => `a+fixture://a/items/${i}`);
  const listen = await post(two.gw.url, 7, "subscriptions/listen", {
    notifications: { resourceSubscriptions: uris },
  });
  assert.equal(listen.status, 200);
  const type = listen.headers.get("content-type");
  if (type === "text/event-stream") await listen.body?.cancel();
  assert.equal(type, "application/json");
  assert.deepEqual(await listen.json(), {
    jsonrpc: "2.0",
    id: 7,
    error: {
      code: -32602,
      message: "Invalid params: notifications.resourceSubscriptions names 1001 resources; " +
        "a stream may subscribe to at most 1000",
    },
  });
  const subscribed = [...two.a.executions.keys()].filter((k) => k.startsWith("subscribe "));
  assert.deepEqual(subscribed, []);
});
