/**
 * Several clients' calls in flight on one shared stdio child, which cannot say which call a
 * message belongs to: sampling requests and log messages reach their caller, or no one.
 */
import assert from "node:assert/strict";
import { connectClient, recordNotices } from "../_support/client.ts";
import { startGateway } from "../_support/gateway.ts";
import { stdioUpstream } from "../_support/procs.ts";
import { CallToolResultSchema, CreateMessageRequestSchema } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";

type Client = Awaited<ReturnType<typeof connectClient>>;

async function sharedStdio() {
  const gw = await startGateway(`servers:\n${stdioUpstream("up")}`);
  await waitFor(() => gw.gateway.catalog().size > 0, "tools", { timeoutMs: 15_000 });
  return gw;
}

/** A client that samples: it answers "answer to <prompt>" once `gate` (if any) opens. */
async function sampler(url: string, seen: string[], gate?: Promise<void>): Promise<Client> {
  const client = await connectClient(url, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const prompt = (request.params.messages[0]!.content as { text: string }).text;
    seen.push(prompt);
    await gate;
    return {
      role: "assistant",
      content: { type: "text", text: `answer to ${prompt}` },
      model: "t",
    };
  });
  return client;
}

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

Deno.test("three concurrent sampling calls of one session through a shared stdio child all succeed", async () => {
  await using gw = await sharedStdio();
  const seen: string[] = [];
  await using client = await sampler(gw.url, seen);
  const results = await Promise.all(
    ["one", "two", "three"].map((prompt) =>
      client.callTool({ name: "up__sample", arguments: { prompt } })
    ),
  );
  assert.deepEqual(results.map(text), [
    "up:sampled:answer to one",
    "up:sampled:answer to two",
    "up:sampled:answer to three",
  ]);
  assert.deepEqual(seen.sort(), ["one", "three", "two"]);
});

Deno.test("a sampling request while two sessions call a shared stdio child is refused naming sharing: per_session", async () => {
  await using gw = await sharedStdio();
  const first: string[] = [];
  const second: string[] = [];
  const gate = Promise.withResolvers<void>();
  await using one = await sampler(gw.url, first, gate.promise);
  await using two = await sampler(gw.url, second);
  const held = one.callTool({ name: "up__sample", arguments: { prompt: "held" } });
  await waitFor(() => first.length === 1, "the first session to be asked");
  const refused = await two.request({
    method: "tools/call",
    params: { name: "up__sample", arguments: { prompt: "other" } },
  }, CallToolResultSchema);
  gate.resolve();
  assert.equal(text(await held), "up:sampled:answer to held");
  assert.equal(refused.isError, true);
  assert.match(
    text(refused),
    /Cannot relay 'sampling\/createMessage' from upstream 'up': calls of 2 clients are in flight.*sharing: per_session/,
  );
  assert.deepEqual(first, ["held"], "the other session's request never reached this client");
  assert.deepEqual(second, []);
});

Deno.test("a log message while calls are in flight on a shared stdio child reaches only those callers", async () => {
  await using gw = await sharedStdio();
  const gate = Promise.withResolvers<void>();
  const asked: string[] = [];
  await using caller = await sampler(gw.url, asked, gate.promise);
  await using bystander = await connectClient(gw.url);
  const seen = { caller: await recordNotices(caller), bystander: await recordNotices(bystander) };
  const held = caller.callTool({ name: "up__sample", arguments: { prompt: "hold" } });
  await waitFor(() => asked.length === 1, "the sampling request");
  await caller.callTool({ name: "up__log", arguments: { count: 1 } });
  await waitFor(() => seen.caller.includes("up:log 1"), "the caller's log message");
  assert.deepEqual(seen.caller.filter((m) => m === "up:log 1"), ["up:log 1"], "once");
  gate.resolve();
  await held;
  // list_changed follows on the bystander's GET stream: had the message leaked, it came first.
  await caller.callTool({ name: "up__add_tool", arguments: { name: "later" } });
  await waitFor(() => seen.bystander.includes("list_changed"), "list_changed");
  assert.deepEqual(seen.bystander, ["list_changed"]);
});
