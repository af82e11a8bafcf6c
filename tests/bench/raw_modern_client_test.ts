import assert from "node:assert/strict";
import { parseTarget } from "../../bench/raw_mcp_session.ts";
import { RawModernClient } from "../../bench/raw_modern_client.ts";

Deno.test("RawModernClient sends each request the 2026-07-28 way: mirrored headers, envelope, no session", async () => {
  const seen: Array<{ headers: Headers; body: Record<string, unknown> }> = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      seen.push({ headers: req.headers, body: await req.json() });
      return Response.json({ jsonrpc: "2.0", id: seen.length, result: {} });
    },
  );
  const client = await RawModernClient.open(
    parseTarget(`http://127.0.0.1:${server.addr.port}/mcp`),
  );
  try {
    const params = '{"name":"fast__tool_0","arguments":{"text":"hello"}}';
    for (let i = 0; i < 2; i++) {
      assert.equal((await client.request("tools/call", params)).status, 200);
    }
  } finally {
    await client.close();
  }
  assert.equal(seen.length, 2);
  const [first, second] = seen;
  assert.equal(first!.headers.get("mcp-protocol-version"), "2026-07-28");
  assert.equal(first!.headers.get("mcp-method"), "tools/call");
  assert.equal(first!.headers.get("mcp-name"), "fast__tool_0");
  assert.equal(first!.headers.get("mcp-session-id"), null);
  assert.deepEqual(first!.body, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: {
      name: "fast__tool_0",
      arguments: { text: "hello" },
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: "mcpstead-loadgen", version: "1.0.0" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  });
  assert.equal(second!.body.id, 2);
});
