/**
 * Bodies built to cost CPU (deep nesting, millions of values) are refused before they are
 * parsed, so four of them at once do not stall other clients (they took /health 1.3 s).
 */
import assert from "node:assert/strict";
import { initialize } from "../_support/client.ts";
import { startGateway } from "../_support/gateway.ts";

Deno.test("four 3.8 MB deep or wide bodies at once get 400 and /health keeps answering within 400 ms", async () => {
  await using gw = await startGateway("");
  const { sessionId } = await initialize(gw.url);
  const n = 1_900_000;
  const deep = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":${"[".repeat(n)}${
    "]".repeat(n)
  }}}`;
  const wide = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[${"0,".repeat(n)}0]}}`;
  // The gateway runs in this process: the longest gap between two /health answers (5 ms
  // apart when nothing blocks) is how long a client's /health could have waited.
  let worst = 0;
  let posting = true;
  const probe = (async () => {
    let last = performance.now();
    while (posting) {
      await (await fetch(`${gw.base}/health`)).body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 5));
      worst = Math.max(worst, performance.now() - last);
      last = performance.now();
    }
  })();
  const answers = await Promise.all([deep, wide, deep, wide].map(async (body) => {
    const res = await fetch(gw.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "mcp-session-id": sessionId,
      },
      body,
    });
    return [res.status, await res.text()] as const;
  }));
  posting = false;
  await probe;
  assert.ok(worst < 400, `/health took up to ${Math.round(worst)} ms`);
  assert.deepEqual(answers.map(([status]) => status), [400, 400, 400, 400]);
  assert.match(answers[0]![1], /nested deeper than 64 levels/);
  assert.match(answers[1]![1], /more than 100000 values/);
});
