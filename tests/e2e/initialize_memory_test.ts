/**
 * `initialize` cannot be used to fill the gateway's memory: a session keeps only a bounded part
 * of what the client declares (the rest of a 60 KB declaration used to stay with the session).
 */
import assert from "node:assert/strict";

const FLOOD = new URL("../fixtures/initialize_flood.ts", import.meta.url).pathname;

Deno.test("2,000 initialize requests of 60 KB each leave under 4 KB of heap and 32 KB of RSS per request", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", FLOOD],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const measured = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(measured.sessions, 2500);
  assert.ok(measured.heap_per_request < 4096, JSON.stringify(measured));
  assert.ok(measured.rss_per_request < 32_768, JSON.stringify(measured));
});
