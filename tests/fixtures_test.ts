import assert from "node:assert/strict";
import {
  connectClient,
  initialize,
  type JsonRpcReply,
  postJsonRpc,
  readJsonRpcReply,
  readSseEvents,
} from "./_support/client.ts";
import { spawnFixture } from "./_support/process.ts";
import {
  LoggingMessageNotificationSchema,
  type Progress,
  StreamableHTTPError,
  ToolListChangedNotificationSchema,
} from "./_support/sdk.ts";
import { waitFor } from "./_support/wait.ts";
import { startHttpFixture } from "./fixtures/http_server.ts";
import { type RawBehaviour, startRawFixture } from "./fixtures/raw_server.ts";

const TOOLS = [
  "add",
  "add_tool",
  "count",
  "echo",
  "elicit",
  "fail",
  "links",
  "log",
  "meta",
  "progress",
  "sample",
  "slow",
  "touch",
];

/** The text of the first content item of a `tools/call` result. */
function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  const first = content?.[0];
  assert.equal(first?.type, "text");
  return first.text ?? "";
}

function call(id: number, name: string, extra: Record<string, unknown> = {}): unknown {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {}, ...extra } };
}

// ---------------------------------------------------------------------------------------------
// startHttpFixture() with the SDK client

Deno.test("startHttpFixture() lists and runs every tool for an SDK client", async () => {
  await using fixture = await startHttpFixture({ name: "alpha", tools: ["extra"] });
  await using client = await connectClient(fixture.url, { headers: { "x-test": "yes" } });

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOLS, "extra"].sort());
  for (const tool of tools) assert.ok(tool.description, `${tool.name} has a description`);
  assert.deepEqual(tools.find((t) => t.name === "add")?.outputSchema?.required, ["sum"]);

  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "hi" } })),
    "alpha:hi",
  );
  const added = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
  assert.deepEqual(added.structuredContent, { sum: 5 });
  assert.equal(textOf(added), '{"sum":5}');
  const failed = await client.callTool({ name: "fail", arguments: {} });
  assert.equal(failed.isError, true);
  assert.equal(textOf(failed), "fail: requested");
  assert.equal(textOf(await client.callTool({ name: "count", arguments: {} })), "1");
  assert.equal(textOf(await client.callTool({ name: "count", arguments: {} })), "2");
  assert.equal(textOf(await client.callTool({ name: "extra", arguments: {} })), "alpha:extra");
  assert.equal(textOf(await client.callTool({ name: "slow", arguments: { ms: 1 } })), "slow:1");
  const meta = await client.callTool({ name: "meta", arguments: {}, _meta: { trace: "t-1" } });
  assert.deepEqual(JSON.parse(textOf(meta)), { trace: "t-1" });
  const links = await client.callTool({ name: "links", arguments: { id: "4" } });
  assert.deepEqual((links.content as Array<{ type: string }>).map((c) => c.type), [
    "text",
    "resource_link",
    "resource",
  ]);

  assert.equal(fixture.executions.get("echo"), 1);
  assert.equal(fixture.executions.get("count"), 2);
  assert.equal(fixture.sessions(), 1);
  const first = fixture.requests[0];
  assert.equal(first?.method, "POST");
  assert.equal((first?.body as { method?: string }).method, "initialize");
  assert.ok(fixture.requests.every((r) => r.headers["x-test"] === "yes"));
});

Deno.test("startHttpFixture() progress tool reports each step to onprogress", async () => {
  await using fixture = await startHttpFixture();
  await using client = await connectClient(fixture.url);
  const seen: Progress[] = [];
  const result = await client.callTool(
    { name: "progress", arguments: { steps: 3 } },
    undefined,
    { onprogress: (progress) => seen.push(progress) },
  );
  assert.equal(textOf(result), "progress:done");
  assert.deepEqual(seen.map((p) => [p.progress, p.total]), [[1, 3], [2, 3], [3, 3]]);
  // Without a progress token nothing is sent, and the call still succeeds.
  const plain = await client.callTool({ name: "progress", arguments: { steps: 2 } });
  assert.equal(textOf(plain), "progress:done");
});

Deno.test("startHttpFixture() log tool sends notifications/message before its result", async () => {
  await using fixture = await startHttpFixture({ name: "logger" });
  await using client = await connectClient(fixture.url);
  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params.data);
  });
  const result = await client.callTool({ name: "log", arguments: { count: 2 } });
  assert.equal(textOf(result), "log:2");
  assert.deepEqual(logs, ["logger:log 1", "logger:log 2"]);
});

Deno.test("startHttpFixture() slow tool stops and counts an abort when the client cancels", async () => {
  await using fixture = await startHttpFixture();
  await using client = await connectClient(fixture.url);
  const controller = new AbortController();
  const pending = client.callTool({ name: "slow", arguments: { ms: 60_000 } }, undefined, {
    signal: controller.signal,
  });
  await waitFor(() => fixture.executions.get("slow") === 1, "slow to start");
  controller.abort(new Error("test cancels"));
  await assert.rejects(pending, /test cancels/);
  await waitFor(() => fixture.aborted === 1, "the handler to see the abort");
});

Deno.test("startHttpFixture() add_tool registers a tool and emits tools/list_changed", async () => {
  await using fixture = await startHttpFixture();
  await using client = await connectClient(fixture.url);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changed++;
  });
  // list_changed is unrelated to a request, so it travels on the client's GET stream.
  await waitFor(() => fixture.requests.some((r) => r.method === "GET"), "the GET stream");
  const added = await client.callTool({ name: "add_tool", arguments: { name: "dyn" } });
  assert.equal(textOf(added), "add_tool:dyn");
  await waitFor(() => changed === 1, "tools/list_changed");
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === "dyn"));
  assert.equal(textOf(await client.callTool({ name: "dyn", arguments: {} })), "fixture:dyn");
  const again = await client.callTool({ name: "add_tool", arguments: { name: "dyn" } });
  assert.equal(again.isError, true);
  // Sessions opened later have the tool too.
  await using late = await connectClient(fixture.url);
  assert.ok((await late.listTools()).tools.some((t) => t.name === "dyn"));
});

Deno.test("startHttpFixture() expireSessions() makes the next call fail with 404 -32001", async () => {
  await using fixture = await startHttpFixture();
  await using client = await connectClient(fixture.url);
  const { sessionId } = await initialize(fixture.url);
  assert.equal(fixture.sessions(), 2);
  await fixture.expireSessions();
  assert.equal(fixture.sessions(), 0);

  await assert.rejects(
    client.callTool({ name: "echo", arguments: { text: "x" } }),
    (error) => {
      assert.ok(error instanceof StreamableHTTPError);
      assert.equal(error.code, 404);
      assert.match(error.message, /-32001.*Session not found/);
      return true;
    },
  );
  const response = await postJsonRpc(fixture.url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
    "mcp-session-id": sessionId,
  });
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), {
    jsonrpc: "2.0",
    error: { code: -32001, message: "Session not found" },
    id: null,
  });
  assert.equal(fixture.executions.get("echo"), undefined);
  // A new session works.
  await using fresh = await connectClient(fixture.url);
  assert.equal(
    textOf(await fresh.callTool({ name: "echo", arguments: { text: "y" } })),
    "fixture:y",
  );
});

Deno.test("startHttpFixture() routes requests like the SDK: 404 unknown session, 400 none", async () => {
  await using fixture = await startHttpFixture();
  const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
  const unknown = await postJsonRpc(fixture.url, ping, { "mcp-session-id": "nope" });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as JsonRpcReply).error?.code, -32001);
  const none = await postJsonRpc(fixture.url, ping);
  assert.equal(none.status, 400);
  await none.body?.cancel();
  const elsewhere = await fetch(fixture.url.replace("/mcp", "/other"));
  assert.equal(elsewhere.status, 404);
  await elsewhere.body?.cancel();

  const { sessionId, body } = await initialize(fixture.url);
  assert.equal(body.result?.protocolVersion, "2025-11-25");
  const response = await postJsonRpc(fixture.url, call(2, "echo", { arguments: { text: "z" } }), {
    "mcp-session-id": sessionId,
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reply = await readJsonRpcReply(response, 2);
  assert.equal(textOf(reply.result), "fixture:z");
});

Deno.test("startHttpFixture() jsonResponse answers with application/json", async () => {
  await using fixture = await startHttpFixture({ jsonResponse: true });
  const { sessionId } = await initialize(fixture.url);
  const response = await postJsonRpc(fixture.url, call(1, "echo", { arguments: { text: "j" } }), {
    "mcp-session-id": sessionId,
  });
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(textOf(((await response.json()) as JsonRpcReply).result), "fixture:j");
  await using client = await connectClient(fixture.url);
  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "k" } })),
    "fixture:k",
  );
});

Deno.test("startHttpFixture() close() frees the port", async () => {
  const fixture = await startHttpFixture();
  {
    await using client = await connectClient(fixture.url);
    await client.ping();
  }
  await fixture.close();
  await fixture.close(); // idempotent
  await assert.rejects(fetch(fixture.url));
  await using again = await startHttpFixture({ port: fixture.port });
  assert.equal(again.url, fixture.url);
});

// ---------------------------------------------------------------------------------------------
// startRawFixture() with plain fetch

async function rawCall(
  behaviour: RawBehaviour,
  id = 7,
  params: Record<string, unknown> = {},
): Promise<{ fixture: Awaited<ReturnType<typeof startRawFixture>>; response: Response }> {
  const fixture = await startRawFixture(behaviour);
  const { sessionId } = await initialize(fixture.url);
  const response = await postJsonRpc(fixture.url, call(id, "t", params), {
    "mcp-session-id": sessionId,
  });
  return { fixture, response };
}

Deno.test("startRawFixture() answers initialize, ping, tools/list and unknown methods", async () => {
  await using fixture = await startRawFixture("json", {
    tools: [{ name: "a", inputSchema: { type: "object" } }, { name: "b" }],
  });
  const { sessionId, body } = await initialize(fixture.url);
  assert.deepEqual(body.result, {
    protocolVersion: "2025-11-25",
    capabilities: { tools: { listChanged: true } },
    serverInfo: { name: "raw", version: "1.0.0" },
  });
  const headers = { "mcp-session-id": sessionId };
  const ping = await postJsonRpc(fixture.url, { jsonrpc: "2.0", id: 1, method: "ping" }, headers);
  assert.deepEqual(await ping.json(), { jsonrpc: "2.0", id: 1, result: {} });
  const list = await postJsonRpc(
    fixture.url,
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    headers,
  );
  assert.deepEqual(((await list.json()) as JsonRpcReply).result, {
    tools: [{ name: "a", inputSchema: { type: "object" } }, { name: "b" }],
  });
  const other = await postJsonRpc(fixture.url, { jsonrpc: "2.0", id: 3, method: "x/y" }, headers);
  assert.equal(((await other.json()) as JsonRpcReply).error?.code, -32601);
  assert.equal(fixture.initializeCount, 1);
  assert.deepEqual(
    fixture.requests.map((r) => (r.body as { method?: string }).method),
    ["initialize", "notifications/initialized", "ping", "tools/list", "x/y"],
  );
  assert.equal(fixture.requests[2]?.headers["mcp-session-id"], sessionId);
});

Deno.test("startRawFixture('progress-first') sends progress and a log before the response", async () => {
  const { fixture, response } = await rawCall("progress-first", 7, {
    _meta: { progressToken: "tok" },
  });
  await using _ = fixture;
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const messages = (await readSseEvents(response)).map((e) => JSON.parse(e.data));
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[0], {
    jsonrpc: "2.0",
    method: "notifications/progress",
    params: { progressToken: "tok", progress: 1, total: 2 },
  });
  assert.equal(messages[1].method, "notifications/message");
  assert.deepEqual(messages[2], {
    jsonrpc: "2.0",
    id: 7,
    result: { content: [{ type: "text", text: "raw:ok" }] },
  });
  assert.equal(fixture.executions, 1);
});

Deno.test("startRawFixture('progress-first') works with the SDK client's onprogress", async () => {
  await using fixture = await startRawFixture("progress-first");
  await using client = await connectClient(fixture.url);
  const seen: Progress[] = [];
  const result = await client.callTool({ name: "t", arguments: {} }, undefined, {
    onprogress: (p) => seen.push(p),
  });
  assert.equal(textOf(result), "raw:ok");
  assert.deepEqual(seen, [{ progress: 1, total: 2 }]);
});

Deno.test("startRawFixture('wrong-id-first') sends a response for id + 1000 first", async () => {
  const { fixture, response } = await rawCall("wrong-id-first", 7);
  await using _ = fixture;
  const events = await readSseEvents(response);
  assert.deepEqual(events.map((e) => JSON.parse(e.data).id), [1007, 7]);
});

Deno.test("startRawFixture('hang') keeps the stream open until close()", async () => {
  const { fixture, response } = await rawCall("hang");
  assert.equal(response.status, 200);
  const reading = readSseEvents(response);
  // A second hanging call that the client abandons.
  const { sessionId } = await initialize(fixture.url);
  const abandoned = await postJsonRpc(fixture.url, call(8, "t"), { "mcp-session-id": sessionId });
  await abandoned.body?.cancel();
  await fixture.close();
  assert.deepEqual(await reading, []);
  assert.equal(fixture.executions, 2);
});

Deno.test("startRawFixture('drop') sends one event with an id, breaks the connection, and resumes after that id", async () => {
  const fixture = await startRawFixture("drop");
  await using _ = fixture;
  const { sessionId } = await initialize(fixture.url);
  const response = await postJsonRpc(fixture.url, call(7, "t"), { "mcp-session-id": sessionId });
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  await assert.rejects(async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      received += value;
    }
  }, /error reading a body/);
  const eventId = /^id: (\S+)\nretry: 10\nevent: message\ndata: .*"notifications\/message"/
    .exec(received)?.[1];
  assert.ok(eventId, received);
  assert.doesNotMatch(received, /"result"/);
  const resumed = await fetch(fixture.url, {
    headers: {
      accept: "text/event-stream",
      "mcp-session-id": sessionId,
      "last-event-id": eventId,
    },
  });
  assert.deepEqual((await readSseEvents(resumed)).map((e) => JSON.parse(e.data)), [
    { jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "raw:resumed" }] } },
  ]);
  const again = await fetch(fixture.url, {
    headers: { "mcp-session-id": sessionId, "last-event-id": eventId },
  });
  assert.equal(again.status, 405, "a stream resumes once");
  await again.body?.cancel();
});

Deno.test("startRawFixture('http-500') answers 500 with a text body", async () => {
  const { fixture, response } = await rawCall("http-500");
  await using _ = fixture;
  assert.equal(response.status, 500);
  assert.equal(await response.text(), "raw: internal failure");
});

Deno.test("startRawFixture('error') answers a JSON-RPC error with data", async () => {
  const { fixture, response } = await rawCall("error", 4);
  await using _ = fixture;
  assert.deepEqual(await response.json(), {
    jsonrpc: "2.0",
    id: 4,
    error: { code: -32602, message: "bad arguments", data: { detail: "x" } },
  });
});

Deno.test("startRawFixture('json') answers a plain JSON result", async () => {
  const { fixture, response } = await rawCall("json", 5);
  await using _ = fixture;
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(textOf((await readJsonRpcReply(response, 5)).result), "raw:ok");
});

Deno.test("startRawFixture('expire-once') rejects the first call with 404, then executes", async () => {
  await using fixture = await startRawFixture("expire-once");
  const first = await initialize(fixture.url);
  const rejected = await postJsonRpc(fixture.url, call(1, "t"), {
    "mcp-session-id": first.sessionId,
  });
  assert.equal(rejected.status, 404);
  assert.equal(
    await rejected.text(),
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
  );
  assert.equal(fixture.executions, 0);
  const stale = await postJsonRpc(fixture.url, call(2, "t"), { "mcp-session-id": first.sessionId });
  assert.equal(stale.status, 404);
  await stale.body?.cancel();

  const second = await initialize(fixture.url);
  assert.notEqual(second.sessionId, first.sessionId);
  for (const id of [3, 4]) {
    const ok = await postJsonRpc(fixture.url, call(id, "t"), {
      "mcp-session-id": second.sessionId,
    });
    assert.equal(textOf((await readJsonRpcReply(ok, id)).result), "raw:ok");
  }
  assert.equal(fixture.executions, 2);
  assert.equal(fixture.initializeCount, 2);
});

Deno.test("startRawFixture() initializeStatus answers initialize with that status", async () => {
  for (const status of [404, 500]) {
    await using fixture = await startRawFixture("json", { initializeStatus: status });
    await assert.rejects(initialize(fixture.url), new RegExp(`status ${status}`));
    assert.equal(fixture.initializeCount, 1);
  }
});

// ---------------------------------------------------------------------------------------------
// spawnFixture()

Deno.test("spawnFixture() runs the HTTP fixture as a process and kill() ends it", async () => {
  await using proc = await spawnFixture(["--name", "spawned"]);
  assert.match(proc.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  {
    await using client = await connectClient(proc.url);
    assert.equal(
      textOf(await client.callTool({ name: "echo", arguments: { text: "x" } })),
      "spawned:x",
    );
  }
  await proc.kill();
  const status = await proc.child.status;
  assert.equal(status.signal, "SIGTERM");
  await assert.rejects(fetch(proc.url));
});

Deno.test("spawnFixture() kill('SIGKILL') mid-call breaks the caller's stream", async () => {
  await using proc = await spawnFixture();
  const { sessionId } = await initialize(proc.url);
  // In SSE mode the headers arrive as soon as the process has taken the call.
  const response = await postJsonRpc(proc.url, call(1, "slow", { arguments: { ms: 60_000 } }), {
    "mcp-session-id": sessionId,
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  // Attach the rejection handler now: the read fails while kill() is still awaited.
  const broken = assert.rejects(readSseEvents(response), /error reading a body/);
  await proc.kill("SIGKILL");
  await broken;
  assert.equal((await proc.child.status).signal, "SIGKILL");
});

Deno.test("spawnFixture() rejects with the stderr when the fixture cannot start", async () => {
  await assert.rejects(
    spawnFixture(["--bogus"]),
    /Cannot spawn fixture.*unknown argument "--bogus"/s,
  );
});
