/**
 * Scopes as a limited client sees them on the wire: resources by any spelling of their URI,
 * URIs in results, the dashboard's tool list, the meta tools' server list, log messages, and
 * server names that a glob could confuse.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connectClient, postJsonRpc, readJsonRpcReply, recordNotices } from "../_support/client.ts";
import { gatewayOverTwo, upstream } from "../_support/gateway.ts";
import { waitFor } from "../_support/wait.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** `reader` may use a's tools and every resource but b's; `items` only a's items; `full` all. */
function scopedGateway(extraHead = "") {
  return gatewayOverTwo({
    head: `mcp:
${extraHead}  auth:
    mode: keys
    clients:
      - name: reader
        key_sha256: ${sha("reader-key")}
        tools: { allow: ["a__*"] }
        prompts: { allow: ["a__*"] }
        resources: { allow: ["*"], deny: ["b+*"] }
      - name: items
        key_sha256: ${sha("items-key")}
        tools: { allow: ["a__*"] }
        prompts: { allow: ["a__*"] }
        resources: { allow: ["a+fixture://a/items/*"] }
      - name: full
        key_sha256: ${sha("full-key")}
        admin: true
`,
    until: (gateway) => gateway.catalog().resources.length === 2,
  });
}

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

const methodsAt = (fixture: { requests: Array<{ body: unknown }> }) =>
  fixture.requests.map((r) => (r.body as { method?: string })?.method);

Deno.test("resources/read, subscribe, unsubscribe and completion/complete refuse an out-of-scope resource by its original URI", async () => {
  await using s = await scopedGateway();
  await using reader = await connectClient(s.gw.url, as("reader-key"));
  for (const uri of ["fixture://b/info", "fixture://b/items/1", "b+fixture://b/info"]) {
    await assert.rejects(
      reader.readResource({ uri }),
      new RegExp(`-32002.*Resource not found: '${uri.replace(/[+/]/g, "\\$&")}'`),
      uri,
    );
    await assert.rejects(reader.subscribeResource({ uri }), /-32002/, uri);
    await assert.rejects(reader.unsubscribeResource({ uri }), /-32002/, uri);
  }
  await assert.rejects(
    reader.complete({
      ref: { type: "ref/resource", uri: "fixture://b/items/{id}" },
      argument: { name: "id", value: "" },
    }),
    /-32002.*Resource not found/,
  );
  await assert.rejects(
    reader.complete({
      ref: { type: "ref/resource", uri: "fixture://b/info" },
      argument: { name: "id", value: "" },
    }),
    /-32002.*Resource not found/,
  );
  const reached = methodsAt(s.b).filter((m) =>
    m === "resources/read" || m === "resources/subscribe" || m === "completion/complete"
  );
  assert.deepEqual(reached, [], "nothing reached upstream b");
  const own = await reader.readResource({ uri: "fixture://a/info" });
  assert.deepEqual(own.contents.map((c) => c.uri), ["a+fixture://a/info"]);
});

Deno.test("a tool result, a prompt and a read carry only the resources the caller may read", async () => {
  await using s = await scopedGateway();
  await using items = await connectClient(s.gw.url, as("items-key"));
  const result = await items.callTool({ name: "a__links", arguments: { id: "7" } });
  assert.deepEqual(result.content, [
    { type: "text", text: "a:links" },
    { type: "resource_link", uri: "a+fixture://a/items/7", name: "item 7" },
  ], "the embedded info resource is out of scope, the link is exposed");
  const prompt = await items.getPrompt({ name: "a__cite", arguments: { id: "3" } });
  assert.deepEqual(prompt.messages.map((m) => m.content), [
    { type: "resource_link", uri: "a+fixture://a/items/3", name: "item 3" },
    { type: "text", text: "a cites" },
  ]);
  await assert.rejects(items.readResource({ uri: "a+fixture://a/info" }), /-32002/);
  const read = await items.readResource({ uri: "a+fixture://a/items/7" });
  assert.deepEqual(read.contents, [{
    uri: "a+fixture://a/items/7",
    mimeType: "text/plain",
    text: "a item 7",
  }]);
});

Deno.test("/ui/tools lists only the tools of the caller's scope", async () => {
  await using s = await scopedGateway();
  const names = async (key: string) => {
    const res = await fetch(`${s.gw.base}/ui/tools`, { headers: as(key).headers });
    assert.equal(res.status, 200);
    return ((await res.json()).tools as Array<{ name: string }>).map((t) => t.name);
  };
  const readerTools = await names("reader-key");
  assert.ok(readerTools.includes("a__echo"), readerTools.join(","));
  assert.deepEqual(readerTools.filter((n) => !n.startsWith("a__")), []);
  const all = await names("full-key");
  assert.ok(all.includes("a__echo") && all.includes("b__echo"));
  const anonymous = await fetch(`${s.gw.base}/ui/tools`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});

Deno.test("gateway_list_servers lists only the servers the caller may use, with its tool counts", async () => {
  await using s = await scopedGateway("  tools_mode: meta\n");
  await using reader = await connectClient(s.gw.url, as("reader-key"));
  const listed = await reader.callTool({ name: "gateway_list_servers", arguments: {} });
  const servers = (listed.structuredContent as { servers: Array<{ name: string; tools: number }> })
    .servers;
  assert.deepEqual(servers.map((x) => x.name), ["a"]);
  const own = await reader.callTool({ name: "gateway_list_tools", arguments: { server: "a" } });
  assert.equal(
    servers[0]!.tools,
    (own.structuredContent as { tools: unknown[] }).tools.length,
  );
  await using full = await connectClient(s.gw.url, as("full-key"));
  const everything = await full.callTool({ name: "gateway_list_servers", arguments: {} });
  assert.deepEqual(
    (everything.structuredContent as { servers: Array<{ name: string }> }).servers.map((x) =>
      x.name
    ),
    ["a", "b"],
  );
});

Deno.test("an upstream's log message outside a call reaches only sessions that may use that server", async () => {
  await using s = await gatewayOverTwo({
    head: `mcp:
  auth:
    mode: keys
    clients:
      - name: full
        key_sha256: ${sha("full-key")}
      - name: bonly
        key_sha256: ${sha("bonly-key")}
        tools: { allow: ["b__*"] }
        prompts: { allow: [] }
        resources: { allow: [] }
`,
  });
  await using full = await connectClient(s.gw.url, as("full-key"));
  await using bonly = await connectClient(s.gw.url, as("bonly-key"));
  const seen = { full: await recordNotices(full), bonly: await recordNotices(bonly) };
  await full.callTool({ name: "a__log", arguments: { count: 1, unrelated: true } });
  await waitFor(() => seen.full.includes("a:log 1"), "full to get a's message");
  // list_changed follows on the same GET stream: had the message leaked, it came first.
  await full.callTool({ name: "a__add_tool", arguments: { name: "later" } });
  await waitFor(() => seen.bonly.includes("list_changed"), "bonly to get list_changed");
  assert.deepEqual(seen.bonly, ["list_changed"]);
});

Deno.test("a Streamable HTTP upstream's log message tied to a call reaches only the caller, not another session at the same level", async () => {
  await using s = await gatewayOverTwo();
  await using caller = await connectClient(s.gw.url);
  await using other = await connectClient(s.gw.url);
  const seen = { caller: await recordNotices(caller), other: await recordNotices(other) };
  const result = await caller.callTool({ name: "a__log", arguments: { count: 2 } });
  assert.deepEqual(result.content, [{ type: "text", text: "log:2" }]);
  assert.deepEqual(seen.caller, ["a:log 1", "a:log 2"]);
  // list_changed follows on each session's GET stream: had a message leaked, it came first.
  await caller.callTool({ name: "a__add_tool", arguments: { name: "later" } });
  await waitFor(() => seen.other.includes("list_changed"), "the other session to get list_changed");
  assert.deepEqual(seen.other, ["list_changed"]);
  await waitFor(() => seen.caller.includes("list_changed"), "the caller to get list_changed");
  assert.deepEqual(seen.caller, ["a:log 1", "a:log 2", "list_changed"]);
});

Deno.test("a server name a tool scope glob could confuse is refused, so 'a__*' never reaches another server", async () => {
  await using s = await scopedGateway();
  await using reader = await connectClient(s.gw.url, as("reader-key"));
  s.gw.rewrite(
    `mcp:\n  auth:\n    mode: keys\n    clients:\n      - name: reader\n        key_sha256: ${
      sha("reader-key")
    }\n        tools: { allow: ["a__*"] }\nservers:\n${upstream("a", s.a.url)}${
      upstream("a_", s.b.url)
    }`,
  );
  const reload = await fetch(`${s.gw.base}/-/reload`, {
    method: "POST",
    headers: { ...as("full-key").headers, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(reload.status, 400);
  assert.match(
    await reload.text(),
    /servers\[1\]\.name: server name 'a_' cannot end with '_'.*call it 'a'/,
  );
  const res = await postJsonRpc(s.gw.url, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "a___echo", arguments: { text: "x" } },
  }, {
    ...as("reader-key").headers,
    "mcp-session-id": (reader.transport as { sessionId?: string }).sessionId!,
    "mcp-protocol-version": "2025-11-25",
  });
  const reply = await readJsonRpcReply(res, 1);
  assert.equal(reply.error?.code, -32602);
  assert.equal(reply.error?.message, "Unknown tool: 'a___echo'");
});
