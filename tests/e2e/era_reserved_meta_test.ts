// The reserved `io.modelcontextprotocol/*` `_meta` keys belong to the gateway on every hop
// (issue: a 2025 client's stray envelope made a dual-era upstream refuse the request with 400
// -32602): a 2025 client's stray keys never reach an upstream, a 2026 client's envelope is
// replaced by the gateway's own, and an upstream's reserved keys do not reach a 2025 client. The
// fixture's `meta` tool answers the `_meta` it received.

import assert from "node:assert/strict";
import { initialize, postJsonRpc, PROTOCOL_VERSION, readJsonRpcReply } from "../_support/client.ts";
import { MODERN_PROTOCOL_VERSION } from "../_support/era_client.ts";
import { gatewayInFront, type RunningGateway } from "../_support/gateway.ts";
import { ALL_INPUT, callModern, ENVELOPE, pick } from "../_support/modern_rpc.ts";
import { startEraFixture } from "../fixtures/era_server.ts";

/** What the fixture's `meta` tool saw: the envelope it was sent and the rest of `_meta`. */
interface SeenMeta {
  envelope: Record<string, unknown> | null;
  meta: Record<string, unknown> | null;
}

function seenMeta(reply: unknown): SeenMeta {
  const text = pick(reply, "result", "content", 0, "text");
  assert.equal(typeof text, "string", JSON.stringify(reply));
  return JSON.parse(text as string);
}

/** A 2025 session's `tools/call` with its own `_meta`, as a raw request. */
async function legacyCall(gw: RunningGateway, name: string, meta: Record<string, unknown>) {
  const { sessionId } = await initialize(gw.url);
  const response = await postJsonRpc(gw.url, {
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name, arguments: {}, _meta: meta },
  }, { "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION });
  return { status: response.status, reply: await readJsonRpcReply(response, 7) };
}

/** A stray envelope in a 2025 client's `_meta`, beside a key of its own. */
const STRAY = {
  [ENVELOPE.protocolVersion]: MODERN_PROTOCOL_VERSION,
  [ENVELOPE.clientInfo]: { name: "spoofed", version: "6.6.6" },
  "example.com/trace": "t-1",
};

Deno.test("the gateway owns the reserved _meta keys on every hop", async (t) => {
  const fixtures = await Promise.all(
    (["modern", "dual", "legacy"] as const).map((kind) => startEraFixture(kind)),
  );
  const [modern, dual, legacy] = fixtures;
  const gateways = await Promise.all([
    gatewayInFront(modern!.url),
    gatewayInFront(dual!.url, { extra: "    era: legacy\n" }),
    gatewayInFront(legacy!.url),
  ]);
  const [gm, gd, gl] = gateways as [RunningGateway, RunningGateway, RunningGateway];
  try {
    await t.step(
      "a 2025 client's stray envelope never reaches a dual-era upstream spoken to in 2025",
      async () => {
        const { status, reply } = await legacyCall(gd, "meta", STRAY);
        assert.equal(status, 200, JSON.stringify(reply));
        assert.equal(reply.error, undefined, JSON.stringify(reply.error));
        const seen = seenMeta(reply);
        assert.equal(seen.envelope, null);
        assert.equal(pick(seen.meta, "example.com/trace"), "t-1");
      },
    );

    await t.step(
      "a 2025 client's stray envelope is replaced by the gateway's for a 2026 upstream",
      async () => {
        const { reply } = await legacyCall(gm, "meta", STRAY);
        const seen = seenMeta(reply);
        assert.equal(pick(seen.envelope, ENVELOPE.protocolVersion), MODERN_PROTOCOL_VERSION);
        assert.equal(pick(seen.envelope, ENVELOPE.clientInfo, "name"), "mcpstead");
        assert.equal(pick(seen.meta, "example.com/trace"), "t-1");
      },
    );

    await t.step(
      "a 2025 client sees no reserved _meta keys of the upstream in a result",
      async () => {
        const { reply } = await legacyCall(gm, "links", {});
        const meta = (pick(reply, "result", "_meta") ?? {}) as Record<string, unknown>;
        const reserved = Object.keys(meta).filter((key) =>
          key.startsWith("io.modelcontextprotocol/")
        );
        assert.deepEqual(reserved, [], JSON.stringify(reply.result));
      },
    );

    await t.step("a 2026 client's envelope is replaced by the gateway's", async () => {
      const { reply } = await callModern(gm.url, {
        id: "m1",
        method: "tools/call",
        params: { name: "meta", arguments: {}, _meta: { "example.com/trace": "t-2" } },
        envelope: { [ENVELOPE.logLevel]: "warning" },
      });
      const seen = seenMeta(reply);
      assert.equal(pick(seen.envelope, ENVELOPE.clientInfo, "name"), "mcpstead");
      assert.equal(pick(seen.envelope, ENVELOPE.protocolVersion), MODERN_PROTOCOL_VERSION);
      assert.deepEqual(pick(seen.envelope, ENVELOPE.clientCapabilities), ALL_INPUT);
      assert.equal(pick(seen.envelope, ENVELOPE.logLevel), "warning");
      assert.equal(pick(seen.meta, "example.com/trace"), "t-2");
    });

    await t.step("a 2026 client's envelope never reaches a legacy upstream", async () => {
      const { reply } = await callModern(gl.url, {
        id: "m2",
        method: "tools/call",
        params: { name: "meta", arguments: {}, _meta: { "example.com/trace": "t-3" } },
      });
      const seen = seenMeta(reply);
      assert.equal(seen.envelope, null);
      assert.equal(pick(seen.meta, "example.com/trace"), "t-3");
    });
  } finally {
    await Promise.all(gateways.map((gw) => gw.close()));
    await Promise.all(fixtures.map((fixture) => fixture.close()));
  }
});
