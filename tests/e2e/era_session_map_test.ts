// What a 2025 session holds, mapped onto a 2026-only upstream that has no session, and the
// change notifications of such an upstream for both eras of clients (spec 2026-07-28:
// basic/patterns/subscriptions, server/utilities/logging):
// - a 2025 client's resources/subscribe becomes a resource filter of the gateway's own
//   subscriptions/listen stream upstream, and updates reach the client's GET stream;
// - logging/setLevel becomes the per-request log level, and log messages reach the call's stream;
// - ping is answered by the gateway (2026-07-28 removed it);
// - list_changed reaches a 2025 session's GET stream and a 2026 client's subscriptions/listen
//   stream (acknowledged first, every message tagged with its subscription id, ended with a
//   complete result when the gateway shuts down).

import assert from "node:assert/strict";
import {
  initialize,
  postJsonRpc,
  PROTOCOL_VERSION,
  readJsonRpcReply,
  type SseMessages,
  sseMessages,
} from "../_support/client.ts";
import { gatewayInFront } from "../_support/gateway.ts";
import { callModern, ENVELOPE, pick, postModern } from "../_support/modern_rpc.ts";
import { waitFor } from "../_support/wait.ts";
import { startEraFixture } from "../fixtures/era_server.ts";
import { README_URI } from "../fixtures/era_tools.ts";

/** A raw 2025 session: its requests, and its GET stream once opened. */
async function legacySession(url: string, capabilities: Record<string, unknown> = {}) {
  const { sessionId, body } = await initialize(url, {}, capabilities);
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION };
  let next = 1;
  return {
    initialized: body,
    /** Sends a request and returns its response (JSON or SSE, unread). */
    post: (method: string, params: Record<string, unknown> = {}) =>
      postJsonRpc(url, { jsonrpc: "2.0", id: next++, method, params }, headers),
    /** Sends a request and reads its reply. */
    async request(method: string, params: Record<string, unknown> = {}) {
      const id = next;
      return await readJsonRpcReply(await this.post(method, params), id);
    },
    /** Opens the session's GET stream. */
    async stream(): Promise<SseMessages> {
      const response = await fetch(url, {
        headers: { ...headers, accept: "text/event-stream" },
      });
      assert.equal(response.status, 200);
      return sseMessages(response);
    },
  };
}

/** The next message of `stream` with `method`, skipping others (keep-alives, unrelated notices). */
async function nextOf(
  stream: SseMessages,
  method: string,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  for (;;) {
    const message = await stream.next(timeoutMs);
    if (message.method === method) return message;
  }
}

Deno.test("a 2026-only upstream's session features reach 2025 sessions and listen streams", async (t) => {
  const fixture = await startEraFixture("modern");
  const gw = await gatewayInFront(fixture.url);
  const streams: SseMessages[] = [];
  try {
    await t.step("ping is answered, though the upstream has none", async () => {
      const session = await legacySession(gw.url);
      const reply = await session.request("ping");
      assert.deepEqual(reply.result, {});
    });

    await t.step(
      "logging/setLevel makes the upstream's log messages reach the call's stream",
      async () => {
        const session = await legacySession(gw.url);
        assert.deepEqual((await session.request("logging/setLevel", { level: "info" })).result, {});
        const logged = await session.post("tools/call", {
          name: "log",
          arguments: { level: "info", text: "visible" },
        });
        await using messages = sseMessages(logged);
        const log = await nextOf(messages, "notifications/message");
        assert.equal(pick(log, "params", "level"), "info");
        assert.equal(pick(log, "params", "data"), "visible");
        const quiet = await session.post("tools/call", {
          name: "log",
          arguments: { level: "debug", text: "hidden" },
        });
        const answered = quiet.headers.get("content-type")?.startsWith("text/event-stream")
          ? await sseMessages(quiet).rest()
          : [await quiet.json()];
        assert.deepEqual(answered.map((message) => message.method ?? "result"), ["result"]);
      },
    );

    await t.step("resources/subscribe takes effect before it is answered", async () => {
      const session = await legacySession(gw.url);
      const offered = pick(session.initialized, "result", "capabilities", "resources", "subscribe");
      assert.equal(offered, true, "the gateway offers subscriptions");
      const stream = await session.stream();
      streams.push(stream);
      const subscribed = await session.request("resources/subscribe", { uri: README_URI });
      assert.deepEqual(subscribed.result, {});
      fixture.state.events!.resourceUpdated(README_URI);
      const updated = await nextOf(stream, "notifications/resources/updated", 2_000);
      assert.equal(pick(updated, "params", "uri"), README_URI);
    });

    await t.step("a resource update on the GET stream carries no upstream _meta keys", async () => {
      const session = await legacySession(gw.url);
      const stream = await session.stream();
      streams.push(stream);
      await session.request("resources/subscribe", { uri: README_URI });
      await waitFor(async () => {
        fixture.state.events!.resourceUpdated(README_URI);
        return await stream.next(200).then(() => true, () => false);
      }, "an update after subscribing");
      fixture.state.events!.resourceUpdated(README_URI);
      const updated = await nextOf(stream, "notifications/resources/updated");
      assert.deepEqual(updated.params, { uri: README_URI });
    });

    const legacy = await legacySession(gw.url);
    const legacyStream = await legacy.stream();
    streams.push(legacyStream);
    const listen = await postModern(gw.url, {
      id: "listen-1",
      method: "subscriptions/listen",
      params: { notifications: { toolsListChanged: true, resourceSubscriptions: [README_URI] } },
    });
    const listened = sseMessages(listen);
    streams.push(listened);

    let ack: Record<string, unknown> = {};
    await t.step(
      "subscriptions/listen is acknowledged first, with its subscription id",
      async () => {
        assert.equal(listen.status, 200);
        ack = await listened.next();
        assert.equal(ack.method, "notifications/subscriptions/acknowledged");
        assert.equal(pick(ack, "params", "_meta", ENVELOPE.subscriptionId), "listen-1");
        assert.equal(pick(ack, "params", "notifications", "toolsListChanged"), true);
      },
    );

    await t.step(
      "an upstream list change reaches the 2025 GET stream and the listen stream",
      async () => {
        const notified = await callModern(gw.url, {
          id: "n1",
          method: "tools/call",
          params: { name: "notify", arguments: { event: "tools" } },
        });
        assert.equal(pick(notified.reply, "result", "content", 0, "text"), "notified: tools");
        await nextOf(legacyStream, "notifications/tools/list_changed");
        const changed = await nextOf(listened, "notifications/tools/list_changed");
        assert.equal(pick(changed, "params", "_meta", ENVELOPE.subscriptionId), "listen-1");
        const listed = await legacy.request("tools/list");
        const names = (listed.result?.tools as Array<{ name: string }>).map((tool) => tool.name);
        assert.ok(names.includes("extra1"), names.join());
      },
    );

    await t.step("a listen stream's resourceSubscriptions are honoured and updated", async () => {
      assert.deepEqual(pick(ack, "params", "notifications", "resourceSubscriptions"), [
        README_URI,
      ]);
      fixture.state.events!.resourceUpdated(README_URI);
      const updated = await nextOf(listened, "notifications/resources/updated", 2_000);
      assert.equal(pick(updated, "params", "uri"), README_URI);
      assert.equal(pick(updated, "params", "_meta", ENVELOPE.subscriptionId), "listen-1");
    });

    await t.step(
      "shutting the gateway down ends the listen stream with a complete result",
      async () => {
        await gw.close();
        const rest = await listened.rest();
        const last = rest.at(-1);
        assert.equal(last?.id, "listen-1", JSON.stringify(rest));
        assert.equal(pick(last, "result", "resultType"), "complete");
        assert.equal(pick(last, "result", "_meta", ENVELOPE.subscriptionId), "listen-1");
      },
    );
  } finally {
    await Promise.all(streams.map((stream) => stream.cancel()));
    await gw.close();
    await fixture.close();
  }
});
