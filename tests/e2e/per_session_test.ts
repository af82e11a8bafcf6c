import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient, endSession, initialize, postJsonRpc } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { tinyUpstream as tiny, unreaped, withMarker } from "../_support/procs.ts";
import { waitFor } from "../_support/wait.ts";

const text = (
  result: unknown,
) => ((result as { content: Array<{ text: string }> }).content[0]!.text);

Deno.test("sharing: per_session gives each session its own child, stopped when the session ends", async () => {
  const marker = crypto.randomUUID();
  await using gw = await startGateway(
    `servers:\n${tiny("kid", marker, "    sharing: per_session\n    max_instances: 2\n")}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  assert.equal(withMarker(marker).length, 1, "one child for the catalog");
  const a = await connectClient(gw.url);
  const b = await connectClient(gw.url);
  const pidA = text(await a.callTool({ name: "kid__pid", arguments: {} }));
  const pidB = text(await b.callTool({ name: "kid__pid", arguments: {} }));
  assert.notEqual(pidA, pidB);
  assert.equal(
    text(await a.callTool({ name: "kid__pid", arguments: {} })),
    pidA,
    "a session keeps its child",
  );
  assert.equal(withMarker(marker).length, 3);
  await using c = await connectClient(gw.url);
  await assert.rejects(
    c.callTool({ name: "kid__pid", arguments: {} }),
    /already runs 2 per-session instances/,
  );
  await endSession(a);
  await endSession(b);
  await waitFor(() => withMarker(marker).length === 1, "the session children to stop");
});

Deno.test("1,000 per_session sessions opened and closed leave no child process", async () => {
  const marker = crypto.randomUUID();
  await using gw = await startGateway(
    `servers:\n${tiny("kid", marker, "    sharing: per_session\n    max_instances: 64\n")}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  const pids: number[] = [];
  const one = async () => {
    const { sessionId } = await initialize(gw.url);
    const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" };
    const res = await postJsonRpc(gw.url, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "kid__pid", arguments: {} },
    }, headers);
    const body = await res.json();
    assert.match(body.result.content[0].text, /^\d+$/);
    pids.push(Number(body.result.content[0].text));
    const end = await fetch(gw.url, { method: "DELETE", headers });
    assert.equal(end.status, 204);
  };
  for (let batch = 0; batch < 1000 / 20; batch++) {
    await Promise.all(Array.from({ length: 20 }, one));
  }
  await waitFor(() => withMarker(marker).length === 1, "only the catalog child to remain", {
    timeoutMs: 10_000,
  });
  await gw.close();
  await waitFor(() => withMarker(marker).length === 0, "no child at all");
  assert.equal(new Set(pids).size, 1000, "every session had its own child");
  assert.deepEqual(unreaped(pids), [], "every child was reaped");
});

Deno.test("session: per_client gives each client its own upstream session, declaring its capabilities", async () => {
  await using up = await startHttpFixture({ name: "up" });
  await using gw = await startGateway(
    `servers:\n${upstream("up", up.url, "    session: per_client\n")}`,
  );
  await waitFor(() => gw.gateway.catalog().size > 0);
  assert.equal(up.sessions(), 1);
  await using a = await connectClient(gw.url, { capabilities: { sampling: {} } });
  await using b = await connectClient(gw.url);
  assert.equal(text(await a.callTool({ name: "up__echo", arguments: { text: "a" } })), "up:a");
  assert.equal(text(await b.callTool({ name: "up__echo", arguments: { text: "b" } })), "up:b");
  assert.equal(up.sessions(), 3);
  const inits = up.requests.filter((r) => (r.body as { method?: string })?.method === "initialize")
    .map((r) => (r.body as { params: { capabilities: unknown } }).params.capabilities);
  assert.deepEqual(
    inits.slice(1).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    [{ sampling: {} }, {}],
  );
  await endSession(a);
  await waitFor(() => up.sessions() === 2, "the client's upstream session to end");
});
