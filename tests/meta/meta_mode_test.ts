import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connectClient } from "../_support/client.ts";
import { gatewayOverTwo } from "../_support/gateway.ts";
import { CallToolResultSchema, ToolListChangedNotificationSchema } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";

const structured = (result: unknown) =>
  (result as { structuredContent: Record<string, unknown> }).structuredContent;

function metaGateway(mode: "meta" | "both", extra = "") {
  return gatewayOverTwo({ head: `mcp:\n  tools_mode: ${mode}\n  pinned: ["a__echo"]\n${extra}` });
}

Deno.test("meta mode lists the gateway tools and pinned ones, and search ranks tools with their schemas", async () => {
  await using s = await metaGateway("meta");
  await using client = await connectClient(s.gw.url);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.deepEqual(names, [
    "gateway_search_tools",
    "gateway_list_servers",
    "gateway_list_tools",
    "gateway_invoke",
    "a__echo",
  ]);
  const found = structured(
    await client.callTool({
      name: "gateway_search_tools",
      arguments: { query: "add two numbers together", limit: 3 },
    }),
  );
  const results = found.results as Array<
    { name: string; server: string; inputSchema: { properties: Record<string, unknown> } }
  >;
  assert.ok(
    ["a__add", "b__add"].includes(results[0]!.name),
    JSON.stringify(results.map((r) => r.name)),
  );
  assert.deepEqual(
    Object.keys(results[0]!.inputSchema.properties).sort(),
    ["a", "b"],
    "the full input schema comes back",
  );
  const onlyB = structured(
    await client.callTool({
      name: "gateway_search_tools",
      arguments: { query: "numbers", server: "b" },
    }),
  );
  assert.ok((onlyB.results as Array<{ server: string }>).every((r) => r.server === "b"));
  const servers = structured(
    await client.callTool({ name: "gateway_list_servers", arguments: {} }),
  );
  assert.deepEqual(
    (servers.servers as Array<{ name: string; connected: boolean }>).map((
      x,
    ) => [x.name, x.connected]),
    [["a", true], ["b", true]],
  );
  const listed = structured(
    await client.callTool({ name: "gateway_list_tools", arguments: { server: "b" } }),
  );
  assert.ok((listed.tools as Array<{ name: string }>).some((t) => t.name === "b__echo"));
});

Deno.test("gateway_invoke returns the upstream result unchanged, keeps errors errors, and suggests names", async () => {
  await using s = await metaGateway("meta");
  await using client = await connectClient(s.gw.url);
  const added = await client.callTool({
    name: "gateway_invoke",
    arguments: { name: "a__add", arguments: { a: 2, b: 5 } },
  });
  assert.deepEqual(added.structuredContent, { sum: 7 });
  const failed = await client.request({
    method: "tools/call",
    params: { name: "gateway_invoke", arguments: { name: "b__fail" } },
  }, CallToolResultSchema);
  assert.equal(failed.isError, true);
  assert.equal((failed.content[0] as { text: string }).text, "fail: requested");
  const unknown = await client.request({
    method: "tools/call",
    params: { name: "gateway_invoke", arguments: { name: "a__eho" } },
  }, CallToolResultSchema);
  assert.equal(unknown.isError, true);
  assert.match(
    (unknown.content[0] as { text: string }).text,
    /Unknown tool 'a__eho'\. Did you mean: a__echo/,
  );
  assert.equal(s.a.executions.get("add"), 1);
  const direct = await client.callTool({ name: "b__echo", arguments: { text: "still callable" } });
  assert.equal(
    (direct.content as Array<{ text: string }>)[0]!.text,
    "b:still callable",
    "unlisted tools stay callable by name",
  );
});

Deno.test("meta mode still announces catalog changes, and both mode lists everything", async () => {
  await using s = await metaGateway("both");
  await using client = await connectClient(s.gw.url);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("gateway_invoke") && names.includes("b__add") && names.length > 20);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  await waitFor(() => s.gw.gateway.catalog().size > 0);
  await client.callTool({ name: "a__add_tool", arguments: { name: "fresh" } });
  await waitFor(() => changed > 0, "tools/list_changed");
  const found = structured(
    await client.callTool({ name: "gateway_search_tools", arguments: { query: "fresh" } }),
  );
  assert.equal((found.results as Array<{ name: string }>)[0]!.name, "a__fresh");
});

Deno.test("meta tools respect a client's scopes", async () => {
  const sha = createHash("sha256").update("k").digest("hex");
  await using s = await metaGateway(
    "meta",
    `  auth:\n    mode: keys\n    clients:\n      - name: c\n        key_sha256: ${sha}\n        tools: { allow: ["b__*"] }\n`,
  );
  await using client = await connectClient(s.gw.url, { headers: { authorization: "Bearer k" } });
  assert.deepEqual(
    (await client.listTools()).tools.map((t) => t.name).filter((n) => !n.startsWith("gateway_")),
    [],
    "a__echo is pinned but out of scope",
  );
  const found = structured(
    await client.callTool({
      name: "gateway_search_tools",
      arguments: { query: "echo text", limit: 10 },
    }),
  );
  assert.ok((found.results as Array<{ name: string }>).every((r) => r.name.startsWith("b__")));
  const refused = await client.request({
    method: "tools/call",
    params: { name: "gateway_invoke", arguments: { name: "a__echo", arguments: {} } },
  }, CallToolResultSchema);
  assert.equal(refused.isError, true);
  const suggestions = (refused.structuredContent as { suggestions: string[] }).suggestions;
  assert.ok(
    suggestions.length > 0 && suggestions.every((n) => n.startsWith("b__")),
    suggestions.join(","),
  );
});
