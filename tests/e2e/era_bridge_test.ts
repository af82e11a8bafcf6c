// The MRTR bridge over the wire, in both directions, with hand-built requests where an SDK
// client would hide what is sent (spec 2026-07-28: basic/patterns/mrtr).
// - A 2026-07-28 client in front of a legacy-only upstream: the upstream's server→client requests
//   come back as `input_required` results with a sealed `requestState`, over several rounds; a
//   forged, tampered, foreign or expired state is refused with -32602; a question the client's
//   envelope does not cover is 400 -32021; closing the answer stream cancels the upstream call.
// - A 2025 client in front of a 2026-only upstream: the upstream's `input_required` results become
//   real elicitation and sampling requests on the call's stream, answered and retried round after
//   round; a client that did not declare the capability gets an error naming it.

import assert from "node:assert/strict";
import {
  initialize,
  type JsonRpcReply,
  postJsonRpc,
  PROTOCOL_VERSION,
  readJsonRpcReply,
  sseMessages,
} from "../_support/client.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { gatewayInFront, type RunningGateway } from "../_support/gateway.ts";
import { callModern, pick, postModern } from "../_support/modern_rpc.ts";
import { waitFor } from "../_support/wait.ts";
import { type EraFixture, startEraFixture } from "../fixtures/era_server.ts";

/** How long the gateway holds a call for a 2026-07-28 client's retry (gateway.ts FLOW_TTL_MS). */
const FLOW_TTL_MS = 600_000;

async function front(
  kind: "legacy" | "modern",
  clock?: FakeClock,
): Promise<{ fixture: EraFixture; gw: RunningGateway }> {
  const fixture = await startEraFixture(kind);
  return { fixture, gw: await gatewayInFront(fixture.url, clock ? { clock } : {}) };
}

/** A `tools/call` of the era fixture, with extra params (a retry's answers and state). */
function call(id: string, name: string, args: Record<string, unknown>, extra = {}) {
  return { id, method: "tools/call", params: { name, arguments: args, ...extra } };
}

/** The one input request of an `input_required` result, with its key. */
/** A server→client request as the tests read it. */
interface Asked {
  method: unknown;
  params: unknown;
}

function onlyInput(reply: JsonRpcReply): Asked & { key: string } {
  const result = reply.result ?? {};
  assert.equal(result.resultType, "input_required", JSON.stringify(reply));
  assert.equal(typeof result.requestState, "string");
  const entries = Object.entries(result.inputRequests as Record<string, Asked>);
  assert.equal(entries.length, 1, JSON.stringify(result.inputRequests));
  const [key, request] = entries[0]!;
  return { key, method: request.method, params: request.params };
}

function textOf(reply: JsonRpcReply): string {
  const content = reply.result?.content as Array<{ text?: string }> | undefined;
  return content?.[0]?.text ?? JSON.stringify(reply);
}

/** Asserts a JSON-RPC error answering `id`, with its HTTP status. */
function assertError(
  got: { status: number; reply: JsonRpcReply },
  id: string,
  status: number,
  code: number,
  message: RegExp,
): void {
  assert.equal(got.status, status, JSON.stringify(got.reply));
  assert.equal(got.reply.id, id);
  assert.equal(got.reply.error?.code, code, JSON.stringify(got.reply));
  assert.match(got.reply.error!.message, message);
}

/**
 * Calls a tool in a 2025 session and answers each server→client request on the call's stream
 * with `answer`; returns what was asked and the call's reply.
 */
async function legacyCall(
  url: string,
  sessionId: string,
  id: string,
  name: string,
  args: Record<string, unknown>,
  answer: (request: Asked) => Record<string, unknown>,
): Promise<{ asked: Asked[]; reply: JsonRpcReply }> {
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION };
  const body = { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
  const response = await postJsonRpc(url, body, headers);
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return { asked: [], reply: await readJsonRpcReply(response, id) };
  }
  await using messages = sseMessages(response);
  const asked: Asked[] = [];
  for (;;) {
    const message = await messages.next();
    if (message.id === id && !("method" in message)) {
      return { asked, reply: message as unknown as JsonRpcReply };
    }
    if (message.method === undefined || message.id === undefined) continue;
    const request = { method: message.method, params: message.params };
    asked.push(request);
    const posted = await postJsonRpc(
      url,
      { jsonrpc: "2.0", id: message.id, result: answer(request) },
      headers,
    );
    assert.equal(posted.status, 202);
  }
}

Deno.test("the MRTR bridge carries input requests across eras over the wire", async (t) => {
  const clock = new FakeClock();
  const legacy = await front("legacy", clock);
  const modern = await front("modern");
  const gl = legacy.gw.url;
  try {
    await t.step(
      "an expired requestState is refused with -32602 and the held call is cancelled upstream",
      async () => {
        const first = await callModern(gl, call("x1", "elicit", { rounds: 2 }));
        const { key } = onlyInput(first.reply);
        assert.deepEqual(legacy.fixture.state.cancelled, []);
        await clock.advance(FLOW_TTL_MS + 10_000);
        const retry = await callModern(
          gl,
          call("x2", "elicit", { rounds: 2 }, {
            inputResponses: { [key]: { action: "accept", content: { name: "Ada" } } },
            requestState: first.reply.result!.requestState,
          }),
        );
        assertError(retry, "x2", 200, -32602, /Invalid or expired requestState/);
        await waitFor(
          () => legacy.fixture.state.cancelled.includes("elicit"),
          "upstream cancelled",
        );
      },
    );

    await t.step(
      "a 2026-07-28 client finishes three elicitation rounds of a legacy upstream",
      async () => {
        const names = ["Ada", "Alan", "Grace"];
        let extra = {};
        for (const [round, name] of names.entries()) {
          const { status, reply } = await callModern(
            gl,
            call(`e${round}`, "elicit", { rounds: 3 }, extra),
          );
          assert.equal(status, 200);
          assert.equal(reply.id, `e${round}`);
          const input = onlyInput(reply);
          assert.equal(input.method, "elicitation/create");
          assert.match(
            String(pick(input.params, "message")),
            new RegExp(`^Round ${round + 1} of 3`),
          );
          extra = {
            inputResponses: { [input.key]: { action: "accept", content: { name } } },
            requestState: reply.result!.requestState,
          };
        }
        const { reply } = await callModern(gl, call("e3", "elicit", { rounds: 3 }, extra));
        assert.equal(reply.result?.resultType, "complete", JSON.stringify(reply));
        assert.equal(textOf(reply), "hello Ada, Alan, Grace");
      },
    );

    await t.step("a 2026-07-28 client answers a legacy upstream's sampling request", async () => {
      const first = await callModern(gl, call("s1", "sample", { prompt: "sky" }));
      const input = onlyInput(first.reply);
      assert.equal(input.method, "sampling/createMessage");
      assert.equal(pick(input.params, "messages", 0, "content", "text"), "sky");
      const answer = {
        role: "assistant",
        content: { type: "text", text: "blue" },
        model: "test",
      };
      const { reply } = await callModern(
        gl,
        call("s2", "sample", { prompt: "sky" }, {
          inputResponses: { [input.key]: answer },
          requestState: first.reply.result!.requestState,
        }),
      );
      assert.equal(textOf(reply), "sampled: blue");
    });

    await t.step("a forged, tampered or foreign requestState is refused with -32602", async () => {
      const held = await callModern(gl, call("h1", "elicit", { rounds: 1 }));
      const { key } = onlyInput(held.reply);
      const state = held.reply.result!.requestState as string;
      const tampered = `${state.slice(0, 4)}${state[4] === "A" ? "B" : "A"}${state.slice(5)}`;
      const answers = { [key]: { action: "accept", content: { name: "Eve" } } };
      const cases = [
        [
          "forged",
          call("f1", "elicit", { rounds: 1 }, { inputResponses: answers, requestState: "forged" }),
        ],
        [
          "tampered",
          call("f2", "elicit", { rounds: 1 }, { inputResponses: answers, requestState: tampered }),
        ],
        [
          "for another tool",
          call("f3", "sample", { prompt: "x" }, { inputResponses: answers, requestState: state }),
        ],
      ] as const;
      for (const [label, request] of cases) {
        const got = await callModern(gl, request);
        assertError(got, request.id, 200, -32602, /Invalid or expired requestState/);
        assert.ok(true, label);
      }
    });

    await t.step("a question the envelope's capabilities do not cover is 400 -32021", async () => {
      const noElicit = await callModern(gl, {
        ...call("c1", "elicit", { rounds: 1 }),
        capabilities: { sampling: {} },
      });
      assertError(noElicit, "c1", 400, -32021, /elicitation/);
      assert.deepEqual(
        pick(noElicit.reply, "error", "data", "requiredCapabilities"),
        { elicitation: {} },
      );
      const noSampling = await callModern(gl, {
        ...call("c2", "sample", { prompt: "x" }),
        capabilities: { elicitation: {} },
      });
      assertError(noSampling, "c2", 400, -32021, /sampling/);
      assert.deepEqual(
        pick(noSampling.reply, "error", "data", "requiredCapabilities"),
        { sampling: {} },
      );
    });

    for (const [label, side] of [["legacy", legacy], ["2026-only", modern]] as const) {
      await t.step(
        `closing the answer stream cancels the call on a ${label} upstream`,
        async () => {
          const response = await postModern(
            side.gw.url,
            call(`w-${label}`, "wait", { ms: 10_000 }, {
              _meta: { progressToken: `w-${label}` },
            }),
          );
          assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
          const messages = sseMessages(response);
          const progress = await messages.next();
          assert.equal(progress.method, "notifications/progress");
          assert.ok(!side.fixture.state.cancelled.includes("wait"));
          await messages.cancel();
          await waitFor(() => side.fixture.state.cancelled.includes("wait"), "upstream cancelled");
        },
      );
    }

    await t.step(
      "a 2025 client answers a 2026-only upstream's elicitations over three rounds",
      async () => {
        const { sessionId } = await initialize(modern.gw.url, {}, {
          elicitation: {},
          sampling: {},
        });
        const names = ["Ada", "Alan", "Grace"];
        const { asked, reply } = await legacyCall(
          modern.gw.url,
          sessionId,
          "l1",
          "elicit",
          { rounds: 3 },
          (request) => {
            const round = Number(/^Round (\d)/.exec(String(pick(request.params, "message")))?.[1]);
            return { action: "accept", content: { name: names[round - 1] } };
          },
        );
        assert.deepEqual(
          asked.map((request) => request.method),
          Array(3).fill("elicitation/create"),
        );
        assert.equal(textOf(reply), "hello Ada, Alan, Grace");
        assert.equal(reply.result?.resultType, undefined, "a 2025 client sees no resultType");
        const sampled = await legacyCall(
          modern.gw.url,
          sessionId,
          "l2",
          "sample",
          { prompt: "sky" },
          () => ({ role: "assistant", content: { type: "text", text: "blue" }, model: "test" }),
        );
        assert.deepEqual(sampled.asked.map((request) => request.method), [
          "sampling/createMessage",
        ]);
        assert.equal(textOf(sampled.reply), "sampled: blue");
      },
    );

    await t.step(
      "a 2025 client without the elicitation capability gets an error naming it",
      async () => {
        const { sessionId } = await initialize(modern.gw.url, {}, { sampling: {} });
        const { asked, reply } = await legacyCall(
          modern.gw.url,
          sessionId,
          "n1",
          "elicit",
          { rounds: 1 },
          () => ({ action: "decline" }),
        );
        assert.deepEqual(asked, []);
        const text = reply.error?.message ?? textOf(reply);
        assert.match(text, /elicitation.*capabilit|capabilit.*elicitation/);
      },
    );
  } finally {
    await Promise.all([legacy, modern].map(async ({ fixture, gw }) => {
      await gw.close();
      await fixture.close();
    }));
  }
});
