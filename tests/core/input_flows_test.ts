import assert from "node:assert/strict";
import { type FlowCaller, InputFlows } from "../../src/core/input_flows.ts";
import { RequestStateCodec } from "../../src/core/request_state.ts";
import { McpError } from "../../src/mcp/errors.ts";
import { ErrorCode, type JsonObject } from "../../src/mcp/jsonrpc.ts";
import { FakeClock } from "../_support/fake_clock.ts";

const CALLER: FlowCaller = {
  principal: "alice",
  method: "tools/call",
  target: "a__deploy",
  capabilities: { elicitation: {}, sampling: {} },
};

function flows(
  clock = new FakeClock(),
  options: Partial<{ max: number; perPrincipal: number }> = {},
) {
  return new InputFlows({
    codec: new RequestStateCodec(RequestStateCodec.randomKey()),
    clock,
    node: "n1",
    ttlMs: 60_000,
    maxFlows: options.max ?? 100,
    maxFlowsPerPrincipal: options.perPrincipal ?? 10,
  });
}

const ELICIT = {
  method: "elicitation/create",
  params: { mode: "form", message: "Deploy?", requestedSchema: { type: "object" } },
};

Deno.test("InputFlows.start() answers the call's result when it asks nothing", async () => {
  const result = await flows().start(
    CALLER,
    () => Promise.resolve({ content: [] }),
    new AbortController().signal,
  );
  assert.deepEqual(result, { content: [] });
});

Deno.test("InputFlows answers input_required, then resumes the waiting call with the client's answer", async () => {
  const held = flows();
  let answer: JsonObject | undefined;
  const first = await held.start(CALLER, async (ask, signal) => {
    answer = await ask(ELICIT, signal);
    return { content: [{ type: "text", text: `got ${JSON.stringify(answer)}` }] };
  }, new AbortController().signal);
  assert.equal(first.resultType, "input_required");
  assert.deepEqual(first.inputRequests, { "input-1": ELICIT });
  assert.equal(typeof first.requestState, "string");
  assert.equal(held.size, 1);
  const final = await held.resume(
    first.requestState,
    { "input-1": { action: "accept", content: { ok: true } } },
    CALLER,
    new AbortController().signal,
  );
  assert.deepEqual(answer, { action: "accept", content: { ok: true } });
  assert.deepEqual(final.content, [{
    type: "text",
    text: 'got {"action":"accept","content":{"ok":true}}',
  }]);
  assert.equal(held.size, 0);
});

Deno.test("InputFlows sends questions asked together in one round and asks again over several rounds", async () => {
  const held = flows();
  const first = await held.start(CALLER, async (ask, signal) => {
    const [a, b] = await Promise.all([
      ask(ELICIT, signal),
      ask({ method: "sampling/createMessage", params: { messages: [], maxTokens: 5 } }, signal),
    ]);
    const c = await ask(ELICIT, signal);
    return { content: [], structuredContent: { a, b, c } };
  }, new AbortController().signal);
  assert.deepEqual(Object.keys(first.inputRequests as JsonObject), ["input-1", "input-2"]);
  const second = await held.resume(
    first.requestState,
    {
      "input-1": { action: "decline" },
      "input-2": { role: "assistant", content: { type: "text", text: "hi" }, model: "m" },
    },
    CALLER,
    new AbortController().signal,
  );
  assert.equal(second.resultType, "input_required");
  assert.deepEqual(Object.keys(second.inputRequests as JsonObject), ["input-3"]);
  const final = await held.resume(
    second.requestState,
    { "input-3": { action: "cancel" } },
    CALLER,
    new AbortController().signal,
  );
  assert.deepEqual((final.structuredContent as JsonObject).c, { action: "cancel" });
});

Deno.test("InputFlows.resume() asks again for an answer the client left out", async () => {
  const held = flows();
  const first = await held.start(
    CALLER,
    async (ask, signal) => ({ content: [], structuredContent: await ask(ELICIT, signal) }),
    new AbortController().signal,
  );
  const again = await held.resume(first.requestState, {}, CALLER, new AbortController().signal);
  assert.equal(again.resultType, "input_required");
  assert.deepEqual(again.inputRequests, { "input-1": ELICIT });
});

Deno.test("InputFlows.resume() refuses a forged, foreign, mismatched or expired state with -32602", async () => {
  const clock = new FakeClock();
  const held = flows(clock);
  const first = await held.start(
    CALLER,
    async (ask, signal) => await ask(ELICIT, signal),
    new AbortController().signal,
  );
  const state = first.requestState as string;
  const signal = new AbortController().signal;
  const refusals = [
    held.resume(state.slice(0, -2) + "xx", {}, CALLER, signal),
    held.resume("junk", {}, CALLER, signal),
    held.resume(state, {}, { ...CALLER, principal: "mallory" }, signal),
    held.resume(state, {}, { ...CALLER, target: "a__other" }, signal),
    flows(clock).resume(state, {}, CALLER, signal),
  ];
  for (const refusal of refusals) {
    await assert.rejects(refusal, (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, ErrorCode.InvalidParams);
      assert.match(error.message, /Invalid or expired requestState/);
      return true;
    });
  }
  await clock.advance(60_001);
  await assert.rejects(held.resume(state, {}, CALLER, signal), /expired/);
});

Deno.test("InputFlows.sweep() cancels a flow whose client never came back, and the upstream call sees it", async () => {
  const clock = new FakeClock();
  const held = flows(clock);
  let cancelled: unknown;
  await held.start(CALLER, async (ask, signal) => {
    signal.addEventListener("abort", () => (cancelled = signal.reason));
    return await ask(ELICIT, signal);
  }, new AbortController().signal);
  assert.equal(held.sweep(), 0);
  await clock.advance(60_001);
  assert.equal(held.sweep(), 1);
  assert.equal(held.size, 0);
  assert.ok(cancelled instanceof McpError);
  assert.match((cancelled as Error).message, /did not retry in time/);
});

Deno.test("InputFlows fails a call with -32021 when its upstream needs an undeclared capability", async () => {
  const held = flows();
  let upstreamSignal: AbortSignal | undefined;
  const call = held.start({ ...CALLER, capabilities: { elicitation: {} } }, async (ask, signal) => {
    upstreamSignal = signal;
    await ask({ method: "sampling/createMessage", params: {} }, signal).catch(() => {});
    return await new Promise<JsonObject>(() => {});
  }, new AbortController().signal);
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof McpError);
    assert.equal(error.code, ErrorCode.MissingRequiredClientCapability);
    assert.deepEqual(error.data, { requiredCapabilities: { sampling: {} } });
    return true;
  });
  assert.equal(upstreamSignal?.aborted, true);
  assert.equal(held.size, 0);
});

Deno.test("InputFlows refuses an upstream's question past its caps, and the call sees why", async () => {
  const held = flows(new FakeClock(), { perPrincipal: 1 });
  await held.start(
    CALLER,
    async (ask, signal) => await ask(ELICIT, signal),
    new AbortController().signal,
  );
  const second = await held.start(CALLER, async (ask, signal) => {
    try {
      return await ask(ELICIT, signal);
    } catch (error) {
      return { isError: true, content: [{ type: "text", text: (error as Error).message }] };
    }
  }, new AbortController().signal);
  assert.match(JSON.stringify(second), /too many calls are waiting for client input/);
});

Deno.test("InputFlows holds its cap per client when calls started at once all ask before any answer goes out", async () => {
  const held = flows(new FakeClock(), { perPrincipal: 2 });
  const asking = async (
    ask: Parameters<Parameters<InputFlows["start"]>[1]>[0],
    signal: AbortSignal,
  ) => {
    try {
      return await ask(ELICIT, signal);
    } catch (error) {
      return { isError: true, content: [{ type: "text", text: (error as Error).message }] };
    }
  };
  const answers = await Promise.all(
    [1, 2, 3, 4].map(() => held.start(CALLER, asking, new AbortController().signal)),
  );
  assert.deepEqual(answers.map((a) => a.resultType ?? a.content), [
    "input_required",
    "input_required",
    [{ type: "text", text: "Cannot ask the client: too many calls are waiting for client input" }],
    [{ type: "text", text: "Cannot ask the client: too many calls are waiting for client input" }],
  ]);
  assert.equal(held.size, 2);
});

Deno.test("InputFlows cancels the call when the client closes the request while it runs", async () => {
  const held = flows();
  const client = new AbortController();
  let upstreamSignal: AbortSignal | undefined;
  const pending = held.start(CALLER, (_ask, signal) => {
    upstreamSignal = signal;
    return new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    );
  }, client.signal);
  client.abort();
  await assert.rejects(pending, /the client closed the request/);
  assert.equal(upstreamSignal?.aborted, true);
});

Deno.test("InputFlows strips the 2025-11-25 elicitationId from URL elicitations", async () => {
  const held = flows();
  const first = await held.start(CALLER, async (ask, signal) =>
    await ask({
      method: "elicitation/create",
      params: { mode: "url", url: "https://example.com/x", message: "m", elicitationId: "e1" },
    }, signal), new AbortController().signal);
  assert.deepEqual(first.inputRequests, {
    "input-1": {
      method: "elicitation/create",
      params: { mode: "url", url: "https://example.com/x", message: "m" },
    },
  });
});
