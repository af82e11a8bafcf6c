/**
 * The reliability target of DESIGN §7 under churn: an upstream killed and restarted every 4 s
 * while 16 clients keep calling, with the default reconnect and circuit-breaker settings.
 */
import assert from "node:assert/strict";
import { connectClient } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { type SpawnedFixture, spawnFixture } from "../_support/process.ts";
import { waitFor } from "../_support/wait.ts";

const CLIENTS = 16;
const CYCLES = 3;
const PERIOD_MS = 4_000;
const SERVED_WITHIN_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("16 clients are all served again within 2 s of the last restart of an upstream killed every 4 s", async () => {
  let child: SpawnedFixture = await spawnFixture(["--name", "up"]);
  const port = new URL(child.url).port;
  try {
    await using gw = await startGateway(`servers:\n${upstream("up", child.url)}`);
    await waitFor(() => gw.gateway.health().servers[0]!.connected, "the upstream");
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => connectClient(gw.url)),
    );
    const lastServed = new Array<number>(CLIENTS).fill(0);
    let running = true;
    const callers = clients.map(async (client, i) => {
      while (running) {
        try {
          await client.callTool({ name: "up__echo", arguments: { text: `${i}` } }, undefined, {
            timeout: 5_000,
          });
          lastServed[i] = performance.now();
        } catch {
          await sleep(100);
        }
      }
    });
    try {
      let killAt = performance.now() + PERIOD_MS;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await sleep(killAt - performance.now());
        await child.kill("SIGKILL");
        child = await spawnFixture(["--name", "up", "--port", port]);
        killAt += PERIOD_MS;
      }
      const restarted = performance.now();
      await waitFor(
        () => lastServed.every((at) => at > restarted),
        "every client to be served again",
        { timeoutMs: SERVED_WITHIN_MS, intervalMs: 20 },
      ).catch((error) => {
        const waiting = lastServed.filter((at) => at <= restarted).length;
        assert.fail(`${error.message}: ${waiting} of ${CLIENTS} clients were not served`);
      });
    } finally {
      running = false;
      await Promise.all(callers);
      await Promise.all(clients.map((client) => client.close()));
    }
  } finally {
    await child.kill("SIGKILL");
  }
});
