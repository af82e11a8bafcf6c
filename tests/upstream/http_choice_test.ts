import assert from "node:assert/strict";
import { chooseHttpClient } from "../../src/upstream/http_choice.ts";
import { DeadlineQueue } from "../../src/upstream/deadlines.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("chooseHttpClient() picks the native client unless a proxy applies or the URL holds user info", () => {
  assert.deepEqual(chooseHttpClient("http://127.0.0.1:1/mcp", undefined, env({})), {
    mode: "native",
  });
  assert.deepEqual(chooseHttpClient("https://api.example.com/mcp", ["PEM"], env({})), {
    mode: "native",
    caCerts: ["PEM"],
  });
  const proxied = chooseHttpClient(
    "https://api.example.com/mcp",
    undefined,
    env({ HTTPS_PROXY: "http://proxy:3128" }),
  );
  assert.equal(proxied.mode, "fetch");
  assert.match((proxied as { reason: string }).reason, /HTTPS_PROXY is set/);
  assert.equal(
    chooseHttpClient("http://api.example.com/mcp", undefined, env({ HTTPS_PROXY: "x" })).mode,
    "native",
    "HTTPS_PROXY does not apply to http:",
  );
  assert.equal(
    chooseHttpClient("http://a.example.com/mcp", undefined, env({ all_proxy: "x" })).mode,
    "fetch",
  );
  assert.match(
    (chooseHttpClient("https://u:p@h.example/mcp", undefined, env({})) as { reason: string })
      .reason,
    /user info/,
  );
});

Deno.test("chooseHttpClient() honours NO_PROXY (names, domain suffixes, ports, *), and falls back when it cannot read a variable", () => {
  const withProxy = (noProxy: string) =>
    env({ HTTP_PROXY: "http://proxy:3128", NO_PROXY: noProxy });
  const mode = (url: string, noProxy: string) =>
    chooseHttpClient(url, undefined, withProxy(noProxy)).mode;
  assert.equal(mode("http://127.0.0.1:8080/mcp", "127.0.0.1"), "native");
  assert.equal(mode("http://api.internal.example/mcp", ".example"), "native");
  assert.equal(mode("http://api.internal.example/mcp", "internal.example"), "native");
  assert.equal(mode("http://api.example/mcp", "other.example, *.nope"), "fetch");
  assert.equal(mode("http://h.example:8080/mcp", "h.example:8080"), "native");
  assert.equal(mode("http://h.example:9090/mcp", "h.example:8080"), "fetch");
  assert.equal(mode("http://[::1]:8080/mcp", "::1"), "native");
  assert.equal(mode("http://anything/mcp", "*"), "native");
  const denied = chooseHttpClient("http://h/mcp", undefined, (name) => {
    throw new Error(`NotCapable: ${name}`);
  });
  assert.equal(denied.mode, "fetch");
  assert.match((denied as { reason: string }).reason, /--allow-env=HTTP_PROXY/);
});

Deno.test("DeadlineQueue fires each deadline once due, an earlier one re-arming its timer, and clears it when nothing waits", async () => {
  const queue = new DeadlineQueue();
  const fired: Array<{ name: string; late: number; waiting: number }> = [];
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const deadline = (name: string, inMs: number) => {
    const at = Date.now() + inMs;
    return {
      at,
      fire() {
        fired.push({ name, late: Date.now() - at, waiting: queue.size });
        if (queue.size === 0) resolve();
      },
    };
  };
  // The later one is added first, so the earlier one must re-arm the timer. A second apart: only
  // an event loop stalled that long could make both due in one run.
  queue.add(deadline("late", 1_000));
  queue.add(deadline("early", 20));
  const removed = deadline("removed", 10);
  queue.add(removed);
  queue.delete(removed);
  await done;
  assert.deepEqual(fired.map(({ name, waiting }) => ({ name, waiting })), [
    { name: "early", waiting: 1 },
    { name: "late", waiting: 0 },
  ]);
  assert.ok(fired.every(({ late }) => late >= 0), "none fired before its time");
  const pending = deadline("never", 60_000);
  queue.add(pending);
  queue.delete(pending);
  // The test's timer sanitizer fails if the queue left its timer keeping the process alive.
});

Deno.test("DeadlineQueue arms its timer once for requests one after another, unreferenced between them", () => {
  const calls: string[] = [];
  const queue = new DeadlineQueue({
    set: () => (calls.push("set"), 1),
    clear: () => void calls.push("clear"),
    ref: () => void calls.push("ref"),
    unref: () => void calls.push("unref"),
  });
  const at = Date.now() + 60_000;
  for (let i = 0; i < 3; i++) {
    const deadline = { at: at + i, fire: () => {} };
    queue.add(deadline);
    queue.delete(deadline);
  }
  assert.deepEqual(calls, ["set", "unref", "ref", "unref", "ref", "unref"]);
  queue.add({ at: at - 1000, fire: () => {} });
  assert.deepEqual(calls.slice(6), ["clear", "set"]);
});
