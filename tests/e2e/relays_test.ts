/**
 * Relays and upstream behaviours no other suite drives, each end to end with the SDK client:
 * completion/complete, prompts and resources list_changed, an upstream's rate limit, resuming a
 * broken upstream answer stream with Last-Event-ID, and SSE keep-alive comments.
 */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startConformanceFixture } from "../fixtures/conformance_server.ts";
import { startRawFixture } from "../fixtures/raw_server.ts";
import {
  completeArg1,
  completeTemplateId,
  TEMPLATE_RESOURCE,
} from "../conformance/fixture_server.ts";
import { connectClient, initialize, PROTOCOL_VERSION } from "../_support/client.ts";
import { startGateway, untilHealthy, upstream } from "../_support/gateway.ts";
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "../_support/sdk.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../_support/wait.ts";

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

Deno.test("completion/complete is relayed for a prompt argument and a resource template variable", async () => {
  await using conf = await startConformanceFixture({ transport: "http" });
  await using gw = await startGateway(`servers:\n${upstream("conf", conf.url)}`);
  await untilHealthy(gw);
  await using client = await connectClient(gw.url);
  const prompt = await client.complete({
    ref: { type: "ref/prompt", name: "conf__test_prompt_with_arguments" },
    argument: { name: "arg1", value: "test" },
  });
  assert.deepEqual(prompt.completion.values, completeArg1("test"));
  assert.deepEqual(
    (await client.complete({
      ref: { type: "ref/prompt", name: "conf__test_prompt_with_arguments" },
      argument: { name: "arg1", value: "x" },
    })).completion.values,
    [],
  );
  const { resourceTemplates } = await client.listResourceTemplates();
  const template = resourceTemplates.find((t) => t.name === TEMPLATE_RESOURCE.name);
  assert.ok(template, JSON.stringify(resourceTemplates));
  const resource = await client.complete({
    ref: { type: "ref/resource", uri: template.uriTemplate },
    argument: { name: "id", value: "4" },
  });
  assert.deepEqual(resource.completion.values, completeTemplateId("4"));
  await assert.rejects(
    client.complete({
      ref: { type: "ref/prompt", name: "conf__no_such_prompt" },
      argument: { name: "arg1", value: "" },
    }),
    (error: unknown) => error instanceof McpError && error.code === ErrorCode.InvalidParams,
  );
});

Deno.test("an upstream's prompts and resources list_changed reach the client, with the new items listed", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
  await untilHealthy(gw);
  await using client = await connectClient(gw.url);
  const seen: string[] = [];
  client.setNotificationHandler(
    PromptListChangedNotificationSchema,
    () => void seen.push("prompts"),
  );
  client.setNotificationHandler(
    ResourceListChangedNotificationSchema,
    () => void seen.push("resources"),
  );
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void seen.push("tools"));

  await client.callTool({ name: "up__add_tool", arguments: { name: "late", kind: "prompt" } });
  await waitFor(() => seen.includes("prompts"), "prompts/list_changed");
  const { prompts } = await client.listPrompts();
  assert.ok(prompts.some((p) => p.name === "up__late"), prompts.map((p) => p.name).join(","));
  const got = await client.getPrompt({ name: "up__late" });
  assert.deepEqual(got.messages, [{ role: "user", content: { type: "text", text: "up:late" } }]);

  await client.callTool({ name: "up__add_tool", arguments: { name: "later", kind: "resource" } });
  await waitFor(() => seen.includes("resources"), "resources/list_changed");
  const { resources } = await client.listResources();
  const added = resources.find((r) => r.name === "later");
  assert.ok(added, resources.map((r) => r.uri).join(","));
  const read = await client.readResource({ uri: added.uri });
  assert.equal((read.contents[0] as { text: string }).text, "up:later");
  assert.ok(!seen.includes("tools"), `no tools/list_changed for them: ${seen.join(",")}`);
});

Deno.test("an upstream's rate_limit refuses calls over it with upstream_rate_limited, without reaching it", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `servers:\n${
      upstream("up", up.url, "    rate_limit:\n      requests_per_second: 0.001\n      burst: 1\n")
    }`,
  );
  await untilHealthy(gw);
  await using client = await connectClient(gw.url);
  assert.equal(text(await client.callTool({ name: "up__echo", arguments: { text: "1" } })), "up:1");
  const refused = await client.callTool({ name: "up__echo", arguments: { text: "2" } }).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof McpError, String(refused));
  assert.match(refused.message, /Upstream 'up' is over its rate limit; retry in \d+ ms/);
  const data = refused.data as { server: string; reason: string; retry_after_ms: number };
  assert.equal(data.server, "up");
  assert.equal(data.reason, "upstream_rate_limited");
  assert.ok(data.retry_after_ms > 900_000, `retry_after_ms ${data.retry_after_ms}`);
  assert.equal(up.executions.get("echo"), 1, "the refused call never reached the upstream");
  const rest = await fetch(`${gw.base}/api/tools/up__echo`, { method: "POST", body: "{}" });
  assert.equal(rest.status, 503);
  assert.ok(Number(rest.headers.get("retry-after")) > 900);
  await rest.body?.cancel();
});

Deno.test("a call whose upstream answer stream breaks is resumed with Last-Event-ID and gets its result", async () => {
  await using raw = await startRawFixture("drop");
  await using gw = await startGateway(`servers:\n${upstream("raw", raw.url)}`);
  await untilHealthy(gw);
  await using client = await connectClient(gw.url);
  const result = await client.callTool({ name: "raw__t", arguments: {} });
  assert.equal(text(result), "raw:resumed");
  const resume = raw.requests.find((r) => r.method === "GET" && "last-event-id" in r.headers);
  assert.ok(resume, "the gateway reopened the stream with GET");
  assert.match(resume.headers["last-event-id"]!, /-1$/, "from the last event it saw");
});

Deno.test("an idle SSE stream gets keep-alive comments, and an SDK client on such a stream is still served", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `servers:\n${upstream("up", up.url)}`,
    {},
    silentLogger,
    { keepAliveMs: 20 },
  );
  await untilHealthy(gw);
  await using client = await connectClient(gw.url);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  const { sessionId } = await initialize(gw.url);
  const stream = await fetch(gw.url, {
    signal: AbortSignal.timeout(10_000),
    headers: {
      accept: "text/event-stream",
      "mcp-session-id": sessionId,
      "mcp-protocol-version": PROTOCOL_VERSION,
    },
  });
  assert.equal(stream.status, 200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  while (received.split(": keepalive\n\n").length <= 3) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended after ${JSON.stringify(received)}`);
    received += value;
  }
  await reader.cancel();
  assert.match(received, /^(: keepalive\n\n){3}/, "only comments while idle");
  await client.callTool({ name: "up__add_tool", arguments: { name: "fresh" } });
  await waitFor(() => changed > 0, "tools/list_changed on the SDK client's own stream");
  assert.equal(text(await client.callTool({ name: "up__fresh", arguments: {} })), "up:fresh");
});
