/**
 * Meta mode in front of the conformance fixture: each tool scenario that a client can drive by
 * itself gives the same result through `gateway_invoke` as when called directly, including a
 * tool error and a tool that asks the client to sample. (The conformance suite itself passes in
 * meta mode too: `deno task conformance --tools-mode meta`.)
 */
import assert from "node:assert/strict";
import { startConformanceFixture } from "../fixtures/conformance_server.ts";
import { connectClient } from "../_support/client.ts";
import { startGateway } from "../_support/gateway.ts";
import { CreateMessageRequestSchema } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";

const SCENARIOS: Array<[tool: string, args: Record<string, unknown>]> = [
  ["test_simple_text", {}],
  ["test_image_content", {}],
  ["test_audio_content", {}],
  ["test_embedded_resource", {}],
  ["test_multiple_content_types", {}],
  ["test_tool_with_logging", {}],
  ["test_error_handling", {}],
  ["test_sampling", { prompt: "hi" }],
];

Deno.test("meta mode: conformance tool scenarios give the same results through gateway_invoke", async () => {
  await using fixture = await startConformanceFixture({ transport: "http" });
  await using gw = await startGateway(
    `namespacing: never\nmcp:\n  tools_mode: meta\nservers:\n  - name: conf\n    url: ${fixture.url}\n`,
  );
  await waitFor(() => gw.gateway.catalog().size >= SCENARIOS.length);
  await using client = await connectClient(gw.url, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: "assistant",
    content: { type: "text", text: "sampled reply" },
    model: "test-model",
  }));

  const listed = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(listed.includes("gateway_invoke") && !listed.includes("test_simple_text"));

  for (const [tool, args] of SCENARIOS) {
    const direct = await client.callTool({ name: tool, arguments: args });
    const invoked = await client.callTool({
      name: "gateway_invoke",
      arguments: { name: tool, arguments: args },
    });
    assert.deepEqual(invoked, direct, tool);
  }
  const sampled = await client.callTool({
    name: "gateway_invoke",
    arguments: { name: "test_sampling", arguments: { prompt: "hi" } },
  });
  assert.deepEqual(sampled.content, [{ type: "text", text: "LLM response: sampled reply" }]);
  const failed = await client.callTool({
    name: "gateway_invoke",
    arguments: { name: "test_error_handling", arguments: {} },
  });
  assert.equal(failed.isError, true);
});
