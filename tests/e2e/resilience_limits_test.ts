/** Circuit breaker, retries of what is safe to repeat, tool filters and overrides, rate limits. */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startRawFixture } from "../fixtures/raw_server.ts";
import { connectClient, initialize, postJsonRpc, PROTOCOL_VERSION } from "../_support/client.ts";
import { healthOf, startGateway, upstream } from "../_support/gateway.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { waitFor } from "../_support/wait.ts";
import { silentLogger } from "../../src/log.ts";

const errorOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as Error & { code: number; data?: { reason?: string; retry_after_ms?: number } };
  }
  throw new Error("it did not fail");
};

Deno.test("the circuit opens after N failures, fails fast while open, and closes through a half-open probe", async () => {
  await using raw = await startRawFixture("json", { failFirst: 3 });
  const clock = new FakeClock();
  await using gw = await startGateway(
    `servers:\n${
      upstream(
        "flaky",
        raw.url,
        "    retry: { attempts: 0 }\n    circuit_breaker: { failures: 3, window_seconds: 30, open_seconds: 1 }\n",
      )
    }`,
    {},
    silentLogger,
    { clock },
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  for (let i = 0; i < 3; i++) {
    const error = await errorOf(client.callTool({ name: "flaky__t", arguments: {} }));
    assert.equal(error.data?.reason, "upstream_http_error");
  }
  assert.equal(raw.executions, 3);
  const fast = await errorOf(client.callTool({ name: "flaky__t", arguments: {} }));
  assert.equal(fast.data?.reason, "upstream_circuit_open");
  assert.match(fast.message, /circuit is open/);
  assert.ok((fast.data?.retry_after_ms ?? 0) > 0);
  assert.equal(raw.executions, 3, "nothing was sent while open");
  assert.equal((await healthOf(gw)).servers[0]!.circuit, "open");
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /^mcpstead_upstream_circuit_state\{server="flaky"\} 1$/m);
  await clock.advance(999);
  assert.equal((await healthOf(gw)).servers[0]!.circuit, "open");
  await clock.advance(1);
  assert.equal((await healthOf(gw)).servers[0]!.circuit, "half_open");
  const probe = await client.callTool({ name: "flaky__t", arguments: {} });
  assert.equal((probe.content as Array<{ text: string }>)[0]!.text, "raw:ok");
  assert.equal((await healthOf(gw)).servers[0]!.circuit, "closed");
});

Deno.test("a failed call of a non-idempotent tool is never sent twice; an idempotent one is retried", async () => {
  const tools = [
    { name: "write", description: "changes things", inputSchema: { type: "object" } },
    {
      name: "read",
      description: "reads",
      inputSchema: { type: "object" },
      annotations: { idempotentHint: true },
    },
    { name: "listed", description: "safe by operator", inputSchema: { type: "object" } },
  ];
  await using once = await startRawFixture("json", { tools, failFirst: 1 });
  await using twice = await startRawFixture("json", { tools, failFirst: 1 });
  await using listed = await startRawFixture("json", { tools, failFirst: 1 });
  const retry =
    "    retry: { attempts: 2, backoff_base_ms: 10, backoff_max_ms: 20, budget: 1, tools: [listed] }\n";
  await using gw = await startGateway(
    `servers:\n${upstream("once", once.url, retry)}${upstream("twice", twice.url, retry)}${
      upstream("op", listed.url, retry)
    }`,
  );
  await waitFor(() => gw.gateway.catalog().size === 9);
  await using client = await connectClient(gw.url);
  const error = await errorOf(client.callTool({ name: "once__write", arguments: {} }));
  assert.equal(error.data?.reason, "upstream_http_error");
  assert.equal(once.executions, 1, "never sent twice");
  const read = await client.callTool({ name: "twice__read", arguments: {} });
  assert.equal((read.content as Array<{ text: string }>)[0]!.text, "raw:ok");
  assert.equal(twice.executions, 2, "retried once after the failure");
  await client.callTool({ name: "op__listed", arguments: {} });
  assert.equal(listed.executions, 2, "a tool the operator listed in retry.tools is retried");
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /^mcpstead_upstream_retries_total\{server="twice"\} 1$/m);
});

Deno.test("tools.include, exclude and overrides shape what clients see, and calls still reach the upstream name", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(`servers:
${
    upstream(
      "up",
      up.url,
      `    tools:
      include: [echo, add, count]
      exclude: [count]
      overrides:
        add: { name: sum, description: "Adds two numbers, overridden.", annotations: { readOnlyHint: true } }
`,
    )
  }`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const tools = (await client.listTools()).tools;
  assert.deepEqual(tools.map((t) => t.name), ["up__echo", "up__sum"]);
  const sum = tools.find((t) => t.name === "up__sum")!;
  assert.equal(sum.description, "[up] Adds two numbers, overridden.");
  assert.equal(sum.annotations?.readOnlyHint, true);
  const result = await client.callTool({ name: "up__sum", arguments: { a: 2, b: 2 } });
  assert.deepEqual(result.structuredContent, { sum: 4 });
  assert.equal(up.executions.get("add"), 1);
  for (const hidden of ["up__add", "up__count", "up__fail"]) {
    await assert.rejects(client.callTool({ name: hidden, arguments: {} }), /Unknown tool/);
  }
});

Deno.test("max_concurrent with a full queue refuses at once with a retry hint", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `servers:\n${upstream("up", up.url, "    max_concurrent: 1\n    max_queue: 1\n")}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  await using client = await connectClient(gw.url);
  const slow = () => client.callTool({ name: "up__slow", arguments: { ms: 300 } });
  const running = slow();
  const queued = slow();
  await waitFor(() => up.executions.get("slow") === 1);
  const refused = await errorOf(slow());
  assert.equal(refused.data?.reason, "upstream_busy");
  await running;
  await queued;
  assert.equal(up.executions.get("slow"), 2, "the queued call ran after the first");
});

Deno.test("a session subscribes to at most 1,000 resources: the next one is refused until it unsubscribes from one", async () => {
  await using fixture = await startHttpFixture({ name: "a" });
  await using gw = await startGateway(`servers:\n${upstream("a", fixture.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const { sessionId } = await initialize(gw.url);
  const headers = {
    "mcp-session-id": sessionId,
    "mcp-protocol-version": PROTOCOL_VERSION,
    accept: "application/json",
  };
  const send = async (id: number, method: string, uri: string) =>
    await (await postJsonRpc(gw.url, { jsonrpc: "2.0", id, method, params: { uri } }, headers))
      .json();
  const uri = (i: number) => `a+fixture://a/items/${i}`;
  for (let i = 0; i < 1000; i += 100) {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, j) => send(i + j, "resources/subscribe", uri(i + j))),
    );
    assert.deepEqual(answers.filter((a) => a.error), []);
  }
  assert.deepEqual((await send(1000, "resources/subscribe", uri(1000))).error, {
    code: -32602,
    message: "Invalid params: this client holds 1000 resource subscriptions, the most it may; " +
      "unsubscribe from one first",
  });
  assert.deepEqual((await send(1001, "resources/subscribe", uri(5))).result, {});
  assert.deepEqual((await send(1002, "resources/unsubscribe", uri(5))).result, {});
  assert.deepEqual((await send(1003, "resources/subscribe", uri(1000))).result, {});
});
