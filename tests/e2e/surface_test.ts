/** Everything besides tools, through the gateway: prompts, resources, completion, logging, relays. */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startRawFixture } from "../fixtures/raw_server.ts";
import { connectClient } from "../_support/client.ts";
import { gatewayOverTwo, startGateway, upstream } from "../_support/gateway.ts";
import {
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";
import { createLogger } from "../../src/log.ts";

const text = (
  result: unknown,
) => ((result as { content: Array<{ text: string }> }).content[0]!.text);

function twoUpstreams(head = "") {
  return gatewayOverTwo({ head, until: (gateway) => gateway.catalog().resources.length === 2 });
}

Deno.test("prompts and resources of two upstreams are listed, namespaced, and reach their owner", async () => {
  await using s = await twoUpstreams();
  await using client = await connectClient(s.gw.url);
  const caps = client.getServerCapabilities()!;
  assert.deepEqual(caps.prompts, { listChanged: true });
  assert.deepEqual(caps.resources, { subscribe: true, listChanged: true });
  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  assert.deepEqual(prompts, ["a__cite", "a__greet", "b__cite", "b__greet"]);
  const greeting = await client.getPrompt({ name: "b__greet", arguments: { who: "you" } });
  assert.equal((greeting.messages[0]!.content as { text: string }).text, "b greets you");
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  assert.deepEqual(resources, ["a+fixture://a/info", "b+fixture://b/info"]);
  const read = await client.readResource({ uri: "b+fixture://b/info" });
  assert.deepEqual(read.contents, [{
    uri: "b+fixture://b/info",
    mimeType: "text/plain",
    text: "b info",
  }]);
  const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) =>
    t.uriTemplate
  );
  assert.deepEqual(templates, ["a+fixture://a/items/{id}", "b+fixture://b/items/{id}"]);
  const item = await client.readResource({ uri: "a+fixture://a/items/7" });
  assert.equal((item.contents[0] as { text: string }).text, "a item 7");
  assert.equal(item.contents[0]!.uri, "a+fixture://a/items/7");
  const byOriginal = await client.readResource({ uri: "fixture://a/info" });
  assert.equal(
    (byOriginal.contents[0] as { text: string }).text,
    "a info",
    "an original URI one server listed",
  );
  await assert.rejects(client.readResource({ uri: "nope://x" }), /-32002.*Resource not found/);
  await assert.rejects(client.getPrompt({ name: "c__greet" }), /Unknown prompt/);
});

Deno.test("resource links and embedded resources in tool results and prompts are exposed URIs that read back", async () => {
  await using s = await twoUpstreams();
  await using client = await connectClient(s.gw.url);
  const result = await client.callTool({ name: "b__links", arguments: { id: "2" } });
  assert.deepEqual(result.content, [
    { type: "text", text: "b:links" },
    { type: "resource_link", uri: "b+fixture://b/items/2", name: "item 2" },
    {
      type: "resource",
      resource: { uri: "b+fixture://b/info", mimeType: "text/plain", text: "b info" },
    },
  ]);
  const link = (result.content as Array<{ uri?: string }>)[1]!.uri!;
  const read = await client.readResource({ uri: link });
  assert.deepEqual(read.contents.map((c) => [c.uri, (c as { text: string }).text]), [
    ["b+fixture://b/items/2", "b item 2"],
  ]);
  const prompt = await client.getPrompt({ name: "a__cite", arguments: { id: "5" } });
  assert.deepEqual(prompt.messages.map((m) => m.content), [
    {
      type: "resource",
      resource: { uri: "a+fixture://a/info", mimeType: "text/plain", text: "a info" },
    },
    { type: "resource_link", uri: "a+fixture://a/items/5", name: "item 5" },
    { type: "text", text: "a cites" },
  ]);
  const plain = await client.callTool({ name: "a__echo", arguments: { text: "x" } });
  assert.deepEqual(plain.content, [{ type: "text", text: "a:x" }]);
});

Deno.test("an upstream URI of a template instance reads from the one server whose template it matches", async () => {
  await using s = await twoUpstreams();
  await using client = await connectClient(s.gw.url);
  const read = await client.readResource({ uri: "fixture://b/items/9" });
  assert.deepEqual(read.contents.map((c) => [c.uri, (c as { text: string }).text]), [
    ["b+fixture://b/items/9", "b item 9"],
  ]);
  await assert.rejects(
    client.readResource({ uri: "fixture://c/items/9" }),
    /-32002.*Resource not found: 'fixture:\/\/c\/items\/9'/,
  );
});

Deno.test("a resource link from the only upstream reads back through the gateway", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const result = await client.callTool({ name: "up__links", arguments: { id: "2" } });
  const link = (result.content as Array<{ type: string; uri?: string }>).find((c) =>
    c.type === "resource_link"
  )!;
  assert.equal(link.uri, "up+fixture://up/items/2");
  const read = await client.readResource({ uri: link.uri! });
  assert.equal((read.contents[0] as { text: string }).text, "up item 2");
});

Deno.test("resource subscriptions reach the owning upstream once and updates reach only subscribers", async () => {
  await using s = await twoUpstreams();
  await using one = await connectClient(s.gw.url);
  await using two = await connectClient(s.gw.url);
  await using other = await connectClient(s.gw.url);
  const seen: Record<string, string[]> = { one: [], two: [], other: [] };
  for (const [name, client] of [["one", one], ["two", two], ["other", other]] as const) {
    client.setNotificationHandler(
      ResourceUpdatedNotificationSchema,
      (n) => void seen[name]!.push(n.params.uri),
    );
  }
  await one.subscribeResource({ uri: "a+fixture://a/info" });
  await two.subscribeResource({ uri: "a+fixture://a/info" });
  assert.equal(
    s.a.executions.get("subscribe fixture://a/info"),
    1,
    "the shared upstream session is subscribed once",
  );
  assert.equal(s.b.executions.get("subscribe fixture://a/info"), undefined);
  await other.callTool({ name: "a__touch", arguments: { uri: "fixture://a/info" } });
  await waitFor(() => seen.one!.length === 1 && seen.two!.length === 1, "the updates");
  assert.deepEqual(seen, { one: ["a+fixture://a/info"], two: ["a+fixture://a/info"], other: [] });
  await one.unsubscribeResource({ uri: "a+fixture://a/info" });
  assert.equal(
    s.a.executions.get("unsubscribe fixture://a/info"),
    undefined,
    "another client still listens",
  );
  await two.unsubscribeResource({ uri: "a+fixture://a/info" });
  assert.equal(s.a.executions.get("unsubscribe fixture://a/info"), 1);
});

Deno.test("a subscription by upstream URI ends by exposed URI, and an update sent on a call's stream reaches subscribers exposed", async () => {
  await using s = await twoUpstreams();
  await using subscriber = await connectClient(s.gw.url);
  await using caller = await connectClient(s.gw.url);
  const seen: Record<string, string[]> = { subscriber: [], caller: [] };
  for (const [name, client] of [["subscriber", subscriber], ["caller", caller]] as const) {
    client.setNotificationHandler(
      ResourceUpdatedNotificationSchema,
      (n) => void seen[name]!.push(n.params.uri),
    );
  }
  await subscriber.subscribeResource({ uri: "fixture://b/info" });
  await caller.callTool({
    name: "b__touch",
    arguments: { uri: "fixture://b/info", related: true },
  });
  await waitFor(() => seen.subscriber!.length === 1, "the update");
  assert.deepEqual(seen, { subscriber: ["b+fixture://b/info"], caller: [] });
  await subscriber.unsubscribeResource({ uri: "b+fixture://b/info" });
  assert.equal(s.b.executions.get("unsubscribe fixture://b/info"), 1);
});

Deno.test("elicitation from upstream A reaches the client that made the call, with two clients calling A", async () => {
  await using s = await twoUpstreams();
  const clients = await Promise.all(["one", "two"].map(async (who) => {
    const client = await connectClient(s.gw.url, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      await new Promise((resolve) => setTimeout(resolve, who === "one" ? 30 : 5));
      return { action: "accept", content: { answer: `${who} saw ${request.params.message}` } };
    });
    return client;
  }));
  try {
    const [one, two] = await Promise.all(
      clients.map((client, i) =>
        client.callTool({ name: "a__elicit", arguments: { message: `q${i}` } })
      ),
    );
    assert.equal(text(one), "a:accept:one saw q0");
    assert.equal(text(two), "a:accept:two saw q1");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("a cancellation reaches only the upstream that owns the request", async () => {
  await using s = await twoUpstreams();
  await using client = await connectClient(s.gw.url);
  const controller = new AbortController();
  const call = client.callTool({ name: "a__slow", arguments: { ms: 5000 } }, undefined, {
    signal: controller.signal,
  })
    .then(() => "answered", () => "cancelled");
  await waitFor(() => s.a.executions.get("slow") === 1, "the call to start");
  controller.abort();
  assert.equal(await call, "cancelled");
  await waitFor(() => s.a.aborted === 1, "upstream a to stop the call");
  const cancelledAt = (fixture: { requests: Array<{ body: unknown }> }) =>
    fixture.requests.filter((r) =>
      (r.body as { method?: string })?.method === "notifications/cancelled"
    ).length;
  assert.equal(cancelledAt(s.a), 1);
  assert.equal(cancelledAt(s.b), 0, "upstream b saw nothing");
});

Deno.test("progress tokens of two clients that chose the same value stay apart", async () => {
  await using s = await twoUpstreams();
  await using one = await connectClient(s.gw.url);
  await using two = await connectClient(s.gw.url);
  const seen: Record<string, number[]> = { one: [], two: [] };
  await Promise.all([
    one.callTool({ name: "a__progress", arguments: { steps: 2 } }, undefined, {
      onprogress: (p) => seen.one!.push(p.progress),
    }),
    two.callTool({ name: "a__progress", arguments: { steps: 4 } }, undefined, {
      onprogress: (p) => seen.two!.push(p.progress),
    }),
  ]);
  assert.deepEqual(seen, { one: [1, 2], two: [1, 2, 3, 4] });
  const tokens = s.a.requests.filter((r) =>
    (r.body as { method?: string })?.method === "tools/call"
  )
    .map((r) =>
      (r.body as { params: { _meta: { progressToken: unknown } } }).params._meta.progressToken
    );
  assert.equal(new Set(tokens).size, 2, "the upstream saw two different tokens");
});

Deno.test("logging/setLevel reaches the upstreams and log messages are relayed and filtered by level", async () => {
  await using s = await twoUpstreams();
  await using client = await connectClient(s.gw.url);
  const messages: string[] = [];
  client.setNotificationHandler(
    LoggingMessageNotificationSchema,
    (n) => void messages.push(`${n.params.level}:${n.params.data}`),
  );
  await client.setLoggingLevel("info");
  const setLevel = (fixture: { requests: Array<{ body: unknown }> }) =>
    fixture.requests.filter((r) => (r.body as { method?: string })?.method === "logging/setLevel")
      .length;
  assert.equal(setLevel(s.a), 1);
  assert.equal(setLevel(s.b), 1);
  await client.callTool({ name: "b__log", arguments: { count: 2 } });
  assert.deepEqual(messages, ["info:b:log 1", "info:b:log 2"]);
  await client.setLoggingLevel("error");
  await client.callTool({ name: "b__log", arguments: { count: 1 } });
  assert.equal(messages.length, 2, "info messages are dropped for a client that asked for errors");
  await assert.rejects(client.setLoggingLevel("loud" as "info"), /Invalid log level/);
});

Deno.test("a method no upstream supports is -32601, and client roots changes reach every upstream", async () => {
  await using raw = await startRawFixture("json");
  await using gw = await startGateway(`servers:\n${upstream("raw", raw.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url, {
    capabilities: { roots: { listChanged: true } },
  });
  assert.equal(client.getServerCapabilities()!.prompts, undefined);
  await assert.rejects(client.listPrompts(), /-32601/);
  await assert.rejects(client.listResources(), /-32601/);
  await client.sendRootsListChanged();
  await waitFor(() =>
    raw.requests.some((r) =>
      (r.body as { method?: string })?.method === "notifications/roots/list_changed"
    )
  );
});

Deno.test("namespacing: never exposes names and URIs verbatim and refuses to shadow a duplicate, logging it", async () => {
  const lines: string[] = [];
  await using s = await gatewayOverTwo({
    head: "namespacing: never\n",
    until: (gateway) => gateway.catalog().resources.length === 2,
    log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
  });
  await using client = await connectClient(s.gw.url);
  const tools = (await client.listTools()).tools;
  assert.equal(tools.filter((t) => t.name === "echo").length, 1, "a's echo, b's is left out");
  assert.equal(text(await client.callTool({ name: "echo", arguments: { text: "x" } })), "a:x");
  const conflict = lines.map((l) => JSON.parse(l)).find((l) => l.name === "echo");
  assert.ok(conflict, "the conflict is logged");
  const { ts: _, ...logged } = conflict;
  assert.deepEqual(logged, {
    level: "error",
    msg: "two upstream items expose the same name; the second is left out",
    kind: "tool",
    name: "echo",
    kept: "a/echo",
    dropped: "b/echo",
  });
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  assert.deepEqual(resources, ["fixture://a/info", "fixture://b/info"]);
  const read = await client.readResource({ uri: "fixture://b/info" });
  assert.equal((read.contents[0] as { text: string }).text, "b info");
  assert.equal(
    tools.find((t) => t.name === "add")!.description,
    "Adds two numbers.",
    "no [server] prefix",
  );
});
