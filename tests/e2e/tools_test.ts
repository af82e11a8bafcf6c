import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startRawFixture } from "../fixtures/raw_server.ts";
import { connectClient } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { waitFor } from "../_support/wait.ts";
import {
  CallToolResultSchema,
  McpError,
  ToolListChangedNotificationSchema,
} from "../_support/sdk.ts";

const text = (
  result: unknown,
) => ((result as { content: Array<{ text: string }> }).content[0]!.text);

Deno.test("an SDK client lists and calls tools of two upstreams with overlapping names", async () => {
  await using one = await startHttpFixture({ name: "one" });
  await using two = await startHttpFixture({ name: "two", jsonResponse: true });
  await using gw = await startGateway(
    `servers:\n${upstream("one", one.url)}${upstream("two", two.url)}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0 && gw.gateway.health().status === "ok");
  await using client = await connectClient(gw.url);
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes("one__echo") && names.includes("two__echo"), names.join(","));
  assert.deepEqual(
    names.slice(0, 2).map((n) => n.split("__")[0]),
    ["one", "one"],
    "server order first",
  );
  const echo = tools.find((t) => t.name === "one__echo")!;
  assert.match(echo.description!, /^\[one\] /);
  assert.equal(
    text(await client.callTool({ name: "one__echo", arguments: { text: "hi" } })),
    "one:hi",
  );
  assert.equal(
    text(await client.callTool({ name: "two__echo", arguments: { text: "hi" } })),
    "two:hi",
  );
});

Deno.test("tool results pass through untouched: structuredContent, isError and _meta", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  await client.listTools();
  const add = await client.callTool({ name: "up__add", arguments: { a: 2, b: 3 } });
  assert.deepEqual(add.structuredContent, { sum: 5 });
  const fail = await client.request({
    method: "tools/call",
    params: { name: "up__fail", arguments: {} },
  }, CallToolResultSchema);
  assert.equal(fail.isError, true);
  assert.equal(text(fail), "fail: requested");
  const meta = await client.request({
    method: "tools/call",
    params: { name: "up__meta", arguments: {}, _meta: { "example.com/trace": "abc" } },
  }, CallToolResultSchema);
  assert.equal(JSON.parse(text(meta))["example.com/trace"], "abc");
});

Deno.test("50 concurrent clients calling at once each get their own answer", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const clients = await Promise.all(Array.from({ length: 50 }, () => connectClient(gw.url)));
  try {
    const answers = await Promise.all(
      clients.flatMap((client, i) =>
        [0, 1].map(async (j) =>
          text(await client.callTool({ name: "up__echo", arguments: { text: `c${i}-${j}` } }))
        )
      ),
    );
    assert.deepEqual(answers, clients.flatMap((_, i) => [`up:c${i}-0`, `up:c${i}-1`]));
    assert.equal(up.executions.get("echo"), 100);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("progress from the upstream reaches the caller with the caller's own token", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const seen: number[] = [];
  const result = await client.callTool(
    { name: "up__progress", arguments: { steps: 3 } },
    undefined,
    {
      onprogress: (p) => seen.push(p.progress),
    },
  );
  assert.equal(text(result), "progress:done");
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("a notification streamed before the result is not taken for the result", async () => {
  await using raw = await startRawFixture("progress-first");
  await using wrong = await startRawFixture("wrong-id-first");
  await using gw = await startGateway(
    `servers:\n${upstream("raw", raw.url)}${upstream("wrong", wrong.url)}`,
  );
  await waitFor(() => gw.gateway.catalog().size === 2);
  await using client = await connectClient(gw.url);
  assert.equal(text(await client.callTool({ name: "raw__t", arguments: {} })), "raw:ok");
  assert.equal(text(await client.callTool({ name: "wrong__t", arguments: {} })), "raw:ok");
});

Deno.test("an expired upstream session is re-initialized transparently, executing the call once", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using raw = await startRawFixture("expire-once");
  await using gw = await startGateway(
    `servers:\n${upstream("up", up.url)}${upstream("raw", raw.url)}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 1);
  await using client = await connectClient(gw.url);
  await up.expireSessions();
  assert.equal(text(await client.callTool({ name: "up__count", arguments: {} })), "1");
  assert.equal(up.executions.get("count"), 1);
  assert.equal(text(await client.callTool({ name: "raw__t", arguments: {} })), "raw:ok");
  assert.equal(raw.executions, 1);
  assert.equal(raw.initializeCount, 2);
});

Deno.test("gateway errors name the upstream and the cause; upstream JSON-RPC errors pass through", async () => {
  await using failing = await startRawFixture("http-500");
  await using erroring = await startRawFixture("error");
  await using hanging = await startRawFixture("hang");
  await using gw = await startGateway(
    `servers:\n${upstream("failing", failing.url)}${upstream("erroring", erroring.url)}${
      upstream("hanging", hanging.url, "    timeout: 0.3\n")
    }`,
  );
  await waitFor(() => gw.gateway.catalog().size === 3);
  await using client = await connectClient(gw.url);
  const errorOf = async (name: string) => {
    try {
      await client.callTool({ name, arguments: {} });
    } catch (error) {
      return error as McpError;
    }
    throw new Error(`${name} did not fail`);
  };
  const unknown = await errorOf("nope__t");
  assert.equal(unknown.code, -32602);
  assert.match(unknown.message, /Unknown tool: 'nope__t'/);
  const http = await errorOf("failing__t");
  assert.equal(http.code, -32000);
  assert.match(http.message, /Upstream 'failing' answered HTTP 500/);
  assert.deepEqual(http.data, { server: "failing", reason: "upstream_http_error" });
  const rpc = await errorOf("erroring__t");
  assert.equal(rpc.code, -32602);
  assert.match(rpc.message, /bad arguments/);
  assert.deepEqual(rpc.data, { detail: "x" });
  const started = performance.now();
  const timeout = await errorOf("hanging__t");
  assert.match(timeout.message, /Upstream 'hanging' did not answer 'tools\/call' within 300 ms/);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("a new upstream tool is announced to clients with tools/list_changed", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changed++;
  });
  await client.callTool({ name: "up__add_tool", arguments: { name: "fresh" } });
  await waitFor(() => changed > 0);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === "up__fresh"));
  assert.equal(text(await client.callTool({ name: "up__fresh", arguments: {} })), "up:fresh");
});

Deno.test("tools/list is paginated with opaque cursors the SDK client follows", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`mcp:\n  page_size: 2\nservers:\n${upstream("up", up.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const first = await client.listTools();
  assert.equal(first.tools.length, 2);
  assert.equal(typeof first.nextCursor, "string");
  const all = [...first.tools];
  let cursor = first.nextCursor;
  while (cursor) {
    const page = await client.listTools({ cursor });
    all.push(...page.tools);
    cursor = page.nextCursor;
  }
  await using direct = await connectClient(up.url);
  const upstreamNames = (await direct.listTools()).tools.map((t) => `up__${t.name}`);
  assert.deepEqual(all.map((t) => t.name), upstreamNames, "every upstream tool, once, in order");
  await assert.rejects(client.listTools({ cursor: "forged" }), /Invalid cursor/);
});
