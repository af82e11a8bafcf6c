import assert from "node:assert/strict";
import { Listeners, readFilter } from "../../src/downstream/listen.ts";
import { SseChannel } from "../../src/downstream/sse_channel.ts";
import { readSseEvents } from "../_support/client.ts";

const SUB = "io.modelcontextprotocol/subscriptionId";

Deno.test("readFilter() keeps the known flags and the string URIs, once each", () => {
  assert.deepEqual(
    readFilter({
      notifications: {
        toolsListChanged: true,
        promptsListChanged: false,
        bogus: true,
        resourceSubscriptions: ["a://1", 5, "a://1", "b://2"],
      },
    }),
    { toolsListChanged: true, resourceSubscriptions: ["a://1", "b://2"] },
  );
  assert.deepEqual(readFilter(undefined), {});
});

Deno.test("Listeners acknowledge first, tag every notification, and end gracefully", async () => {
  const listeners = new Listeners({ max: 10, maxPerPrincipal: 2 });
  const channel = new SseChannel();
  const listener = listeners.open("k1", 9, "alice", {
    toolsListChanged: true,
    resourceSubscriptions: ["a+x://1"],
  }, channel);
  listeners.listChanged("tools");
  listeners.listChanged("prompts");
  listeners.resourceUpdated(listener.key, { uri: "a+x://2" });
  listeners.resourceUpdated(listener.key, { uri: "a+x://1" });
  listeners.closeAll();
  assert.equal(listeners.size, 0);
  const messages = (await readSseEvents(new Response(channel.body))).map((e) => JSON.parse(e.data));
  assert.deepEqual(messages, [
    {
      jsonrpc: "2.0",
      method: "notifications/subscriptions/acknowledged",
      params: {
        _meta: { [SUB]: 9 },
        notifications: { toolsListChanged: true, resourceSubscriptions: ["a+x://1"] },
      },
    },
    { jsonrpc: "2.0", method: "notifications/tools/list_changed", params: { _meta: { [SUB]: 9 } } },
    {
      jsonrpc: "2.0",
      method: "notifications/resources/updated",
      params: { uri: "a+x://1", _meta: { [SUB]: 9 } },
    },
    { jsonrpc: "2.0", id: 9, result: { resultType: "complete", _meta: { [SUB]: 9 } } },
  ]);
});

Deno.test("Listeners.hasRoom() caps streams per principal and in all", () => {
  const listeners = new Listeners({ max: 3, maxPerPrincipal: 2 });
  const open = (principal: string) =>
    listeners.open(crypto.randomUUID(), 1, principal, {}, new SseChannel());
  open("a");
  const second = open("a");
  assert.equal(listeners.hasRoom("a"), false);
  assert.equal(listeners.hasRoom("b"), true);
  open("b");
  assert.equal(listeners.hasRoom("c"), false);
  listeners.forget(second);
  assert.equal(listeners.hasRoom("a"), true);
});
