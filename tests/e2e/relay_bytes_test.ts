/**
 * A result the gateway only relays reaches the client as the bytes its upstream wrote, with the
 * client's own id; an upstream cannot use that to end the message early, add an id, or get a
 * member past the gateway's checks that JSON.parse would read differently.
 */
import assert from "node:assert/strict";
import { initialize, postJsonRpc, PROTOCOL_VERSION } from "../_support/client.ts";
import { startGateway } from "../_support/gateway.ts";
import { postModern } from "../_support/modern_rpc.ts";
import { denoUpstream } from "../_support/procs.ts";
import { waitFor } from "../_support/wait.ts";
import { VERBATIM_ANSWERS } from "../fixtures/verbatim_stdio.ts";

const FIXTURE = new URL("../fixtures/verbatim_stdio.ts", import.meta.url).pathname;
const SERVER_INFO = '{"io.modelcontextprotocol/serverInfo":{"name":"mcpstead","version":"test"}}';

/** The `result` text of a fixture answer, as the fixture writes it. */
function resultText(tool: string): string {
  const line = VERBATIM_ANSWERS[tool]!;
  const start = line.indexOf('"result":') + 9;
  return line.slice(start, line.lastIndexOf("}"));
}

async function gatewayInFrontOfVerbatim() {
  const gw = await startGateway(`servers:\n${denoUpstream("v", FIXTURE, [])}`);
  await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
  const { sessionId } = await initialize(gw.url);
  const call = async (tool: string, id: number) => {
    const res = await postJsonRpc(
      gw.url,
      { jsonrpc: "2.0", id, method: "tools/call", params: { name: `v__${tool}`, arguments: {} } },
      {
        accept: "application/json",
        "mcp-session-id": sessionId,
        "mcp-protocol-version": PROTOCOL_VERSION,
      },
    );
    assert.equal(res.status, 200);
    return await res.text();
  };
  return { gw, call };
}

Deno.test("a 2025 session gets a relayed tool result as the upstream wrote it: an integer beyond 2^53 keeps its digits", async () => {
  const { gw, call } = await gatewayInFrontOfVerbatim();
  await using _ = gw;
  assert.equal(await call("big", 7), `{"jsonrpc":"2.0","id":7,"result":${resultText("big")}}`);
  // The SDK's order (result before jsonrpc and id) is cut out just the same.
  assert.equal(
    await call("first", 8),
    '{"jsonrpc":"2.0","id":8,"result":{"content":[{"type":"text","text":"result first"}]}}',
  );
});

Deno.test("a 2026-07-28 client gets a relayed tool result as the upstream wrote it, with the gateway's _meta and resultType", async () => {
  const { gw } = await gatewayInFrontOfVerbatim();
  await using _ = gw;
  const res = await postModern(gw.url, {
    id: 3,
    method: "tools/call",
    params: { name: "v__big", arguments: {} },
    headers: { accept: "application/json" },
  });
  assert.equal(res.status, 200);
  const source = resultText("big");
  assert.equal(
    await res.text(),
    `{"jsonrpc":"2.0","id":3,"result":${
      source.slice(0, -1)
    },"_meta":${SERVER_INFO},"resultType":"complete"}}`,
  );
});

Deno.test("an upstream's second result member is what the client gets, with the client's id, never a mix", async () => {
  const { gw, call } = await gatewayInFrontOfVerbatim();
  await using _ = gw;
  const body = JSON.parse(await call("twice", 11));
  assert.equal(body.id, 11);
  assert.deepEqual(body.result, { content: [{ type: "text", text: "two" }] });
});

Deno.test("a result member under an escaped key is checked as JSON.parse reads it: its resource link is exposed", async () => {
  const { gw, call } = await gatewayInFrontOfVerbatim();
  await using _ = gw;
  const body = JSON.parse(await call("escaped", 12));
  assert.equal(body.id, 12);
  const [link] = body.result.content;
  assert.equal(link.type, "resource_link");
  assert.notEqual(link.uri, "file:///secret");
  assert.match(link.uri, /^.+\+file:\/\/\/secret$/, "the URI is the gateway's exposed form");
});

Deno.test("text that looks like the end of the message and another id stays text", async () => {
  const { gw, call } = await gatewayInFrontOfVerbatim();
  await using _ = gw;
  const text = await call("sneaky", 13);
  assert.equal(text, `{"jsonrpc":"2.0","id":13,"result":${resultText("sneaky")}}`);
  const body = JSON.parse(text);
  assert.equal(body.id, 13);
  assert.equal(body.result.content[0].text, 'a"}],"id":99,"x":{"\\');
});

Deno.test("a result from a Streamable HTTP upstream is relayed as it wrote it, from a JSON body and from an event", async () => {
  const big =
    '{ "content": [{"type":"text","text":"n"}], "structuredContent": {"n": 98765432109876543210} }';
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method !== "POST") return new Response(null, { status: 405 });
    const message = await req.json();
    const id = JSON.stringify(message.id);
    const reply = (text: string, type = "application/json") =>
      new Response(text, { headers: { "content-type": type, "mcp-session-id": "s1" } });
    if (message.id === undefined) return new Response(null, { status: 202 });
    if (message.method === "initialize") {
      return reply(
        `{"jsonrpc":"2.0","id":${id},"result":{"protocolVersion":"2025-11-25","capabilities":` +
          `{"tools":{}},"serverInfo":{"name":"up","version":"1"}}}`,
      );
    }
    if (message.method === "tools/list") {
      return reply(
        `{"jsonrpc":"2.0","id":${id},"result":{"tools":[{"name":"json","inputSchema":{"type":` +
          `"object"}},{"name":"sse","inputSchema":{"type":"object"}}]}}`,
      );
    }
    if (message.method === "tools/call" && message.params.name === "sse") {
      return reply(
        `event: message\ndata: {"jsonrpc":"2.0","id":${id},"result":${big}}\n\n`,
        "text/event-stream",
      );
    }
    return reply(`{"jsonrpc":"2.0","id":${id},"result":${big}}`);
  });
  try {
    await using gw = await startGateway(
      `servers:\n  - name: h\n    url: http://127.0.0.1:${upstream.addr.port}/mcp\n    protocol: streamable\n`,
    );
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    const { sessionId } = await initialize(gw.url);
    for (const [i, tool] of ["json", "sse"].entries()) {
      const res = await postJsonRpc(gw.url, {
        jsonrpc: "2.0",
        id: i + 1,
        method: "tools/call",
        params: { name: `h__${tool}`, arguments: {} },
      }, {
        accept: "application/json",
        "mcp-session-id": sessionId,
        "mcp-protocol-version": PROTOCOL_VERSION,
      });
      assert.equal(await res.text(), `{"jsonrpc":"2.0","id":${i + 1},"result":${big}}`, tool);
    }
  } finally {
    await upstream.shutdown();
  }
});
