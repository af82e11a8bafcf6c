/**
 * One suite, every upstream transport: the same cases and expectations against the fixture
 * served over Streamable HTTP, legacy HTTP+SSE and stdio.
 */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { startSseFixture } from "../fixtures/sse_server.ts";
import { connectClient } from "../_support/client.ts";
import { CreateMessageRequestSchema } from "../_support/sdk.ts";
import { healthOf, listedToolNames, startGateway, upstream } from "../_support/gateway.ts";
import { stdioUpstream, withMarker } from "../_support/procs.ts";
import { waitFor } from "../_support/wait.ts";

interface Upstream extends AsyncDisposable {
  /** The YAML servers entry. */
  yaml: string;
  /** Makes the upstream lose its state: expire the HTTP session, or kill the child. */
  breakIt(): Promise<void>;
  /** Whether the upstream still holds anything of the gateway's (a session, a process). */
  leftovers(): number;
}

const FAST = "    reconnect:\n      backoff_base_ms: 20\n      backoff_max_ms: 100\n";

const transports: Record<string, (name: string) => Promise<Upstream>> = {
  streamable: async (name) => {
    const fixture = await startHttpFixture({ name });
    return {
      yaml: upstream(name, fixture.url, FAST),
      breakIt: () => fixture.expireSessions(),
      leftovers: () => fixture.sessions(),
      [Symbol.asyncDispose]: () => fixture.close(),
    };
  },
  sse: async (name) => {
    const fixture = await startSseFixture({ name });
    return {
      yaml: upstream(name, fixture.url, "    protocol: sse\n" + FAST),
      breakIt: () => Promise.resolve(fixture.dropSessions()),
      leftovers: () => fixture.sessions(),
      [Symbol.asyncDispose]: () => fixture.close(),
    };
  },
  stdio: (name) => {
    const marker = crypto.randomUUID();
    return Promise.resolve({
      yaml: stdioUpstream(name, { marker, extra: FAST }),
      breakIt: async () => {
        for (const p of withMarker(marker)) Deno.kill(p.pid, "SIGKILL");
        await waitFor(() => withMarker(marker).length === 0);
      },
      leftovers: () => withMarker(marker).length,
      [Symbol.asyncDispose]: () => Promise.resolve(),
    });
  },
};

const text = (
  result: unknown,
) => ((result as { content: Array<{ text: string }> }).content[0]!.text);

for (const [transport, make] of Object.entries(transports)) {
  Deno.test(`[${transport}] initialize, list and call through the gateway`, async () => {
    await using up = await make("up");
    await using gw = await startGateway(`servers:\n${up.yaml}`);
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    assert.equal((await healthOf(gw)).servers[0]!.transport, transport);
    await using client = await connectClient(gw.url);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "up__echo"));
    assert.equal(
      text(await client.callTool({ name: "up__echo", arguments: { text: "hi" } })),
      "up:hi",
    );
    const add = await client.callTool({ name: "up__add", arguments: { a: 1, b: 2 } });
    assert.deepEqual(add.structuredContent, { sum: 3 });
  });

  Deno.test(`[${transport}] progress reaches the caller, two clients on one upstream get their own answers`, async () => {
    await using up = await make("up");
    await using gw = await startGateway(`servers:\n${up.yaml}`);
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    await using a = await connectClient(gw.url);
    await using b = await connectClient(gw.url);
    const seen: number[] = [];
    const [pa, ea, eb] = await Promise.all([
      a.callTool({ name: "up__progress", arguments: { steps: 3 } }, undefined, {
        onprogress: (p) => seen.push(p.progress),
      }),
      a.callTool({ name: "up__echo", arguments: { text: "a" } }),
      b.callTool({ name: "up__echo", arguments: { text: "b" } }),
    ]);
    assert.equal(text(pa), "progress:done");
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(text(ea), "up:a");
    assert.equal(text(eb), "up:b");
  });

  Deno.test(`[${transport}] an upstream's sampling request reaches the calling client and its answer goes back`, async () => {
    await using up = await make("up");
    await using gw = await startGateway(`servers:\n${up.yaml}`);
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    await using asker = await connectClient(gw.url, { capabilities: { sampling: {} } });
    const prompts: string[] = [];
    asker.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const content = request.params.messages[0]!.content as { text: string };
      prompts.push(content.text);
      return {
        role: "assistant",
        content: { type: "text", text: `answer to ${content.text}` },
        model: "test",
      };
    });
    const result = await asker.callTool({ name: "up__sample", arguments: { prompt: "2+2" } });
    assert.equal(text(result), "up:sampled:answer to 2+2");
    assert.deepEqual(prompts, ["2+2"]);
    // A client without the capability: the gateway answers the upstream's request with -32601,
    // which the upstream's tool turns into its error result.
    await using plain = await connectClient(gw.url);
    const refused = await plain.callTool({ name: "up__sample", arguments: { prompt: "x" } });
    assert.equal(refused.isError, true);
    assert.equal(
      text(refused),
      "MCP error -32601: The client did not declare the 'sampling' capability",
    );
  });

  Deno.test(`[${transport}] a lost upstream session or process is recovered, with its tools`, async () => {
    await using up = await make("up");
    await using gw = await startGateway(`servers:\n${up.yaml}`);
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    await using client = await connectClient(gw.url);
    await up.breakIt();
    await waitFor(
      async () => {
        try {
          return text(await client.callTool({ name: "up__echo", arguments: { text: "back" } })) ===
            "up:back";
        } catch {
          return false;
        }
      },
      "the upstream to answer again",
      { timeoutMs: 15_000 },
    );
    assert.ok((await listedToolNames(gw)).includes("up__echo"));
  });

  Deno.test(`[${transport}] stopping the gateway ends the upstream session or process`, async () => {
    await using up = await make("up");
    await using gw = await startGateway(`servers:\n${up.yaml}`);
    await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
    assert.equal(up.leftovers(), 1);
    await gw.close();
    await waitFor(() => up.leftovers() === 0, "the upstream to be released");
  });
}

Deno.test("protocol auto falls back to legacy SSE when the initialize POST gets 405", async () => {
  await using legacy = await startSseFixture({ name: "old" });
  await using modern = await startHttpFixture({ name: "new" });
  await using gw = await startGateway(
    `servers:\n${upstream("old", legacy.url)}${upstream("new", modern.url)}`,
  );
  await waitFor(() => gw.gateway.health().status === "ok", "both upstreams", { timeoutMs: 10_000 });
  const [old, fresh] = (await healthOf(gw)).servers;
  assert.equal(old!.protocol, "auto");
  assert.equal(old!.transport, "sse");
  assert.equal(fresh!.transport, "streamable");
  await using client = await connectClient(gw.url);
  assert.equal(
    text(await client.callTool({ name: "old__echo", arguments: { text: "x" } })),
    "old:x",
  );
});
