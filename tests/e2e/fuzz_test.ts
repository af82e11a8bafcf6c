/**
 * 10,000 generated malformed or hostile requests against a running gateway process: bad JSON,
 * wrong types, huge strings, deep nesting, invalid UTF-8, header abuse. Nothing may crash it,
 * answer 500, leak a stack trace or the token, and its memory must come back to its baseline
 * (measured after a warm-up of 1,000 such requests).
 */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "../_support/client.ts";
import { serveGateway } from "../_support/process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const TOKEN = "fuzz-s3cret-token-0123456789";
const ALLOWED = new Set([
  200,
  202,
  204,
  400,
  401,
  403,
  404,
  405,
  406,
  408,
  409,
  413,
  415,
  429,
  431,
]);

/** A small deterministic PRNG (mulberry32), so a failure can be reproduced. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

Deno.test({
  name:
    "10,000 hostile requests: no crash, no 500, no stack or secret leaked, memory back to baseline",
  sanitizeResources: false,
  async fn() {
    await using up = await startHttpFixture({ name: "up" });
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n  - name: up\n    url: ${up.url}\n    required: true\n`,
    );
    Deno.env.set("MCPSTEAD_BEARER_TOKEN", TOKEN);
    await using gateway = await serveGateway(MAIN, ["--config", `${dir}/c.yaml`]);
    Deno.env.delete("MCPSTEAD_BEARER_TOKEN");
    const url = `http://${gateway.address}/mcp`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const init = await fetch(url, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25" },
      }),
    });
    const session = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();

    const next = random(20261121);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const methods = [
      "tools/call",
      "tools/list",
      "ping",
      "resources/read",
      "prompts/get",
      "initialize",
      "x".repeat(5000),
      "",
      "notifications/cancelled",
    ];
    const values = [
      null,
      true,
      0,
      -1,
      1e308,
      "",
      "x".repeat(100_000),
      [],
      {},
      { a: { b: [] } },
      "\u0000\ud800",
      deep(50),
    ];
    const bodies: Array<() => BodyInit> = [
      () => bytes(1 + Math.floor(next() * 200)),
      () => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      () => `{"jsonrpc":"2.0","id":${Math.floor(next() * 9)},"method":"${pick(methods)}"`,
      () =>
        JSON.stringify({
          jsonrpc: pick(["2.0", "1.0", 2, null]),
          id: pick([1, "a", null, {}, [], 1.5]),
          method: pick([...methods, 7, null]),
          params: pick(values),
        }),
      () =>
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: pick(["up__echo", "nope", "", "up__slow"]), arguments: pick(values) },
        }),
      () => deep(1 + Math.floor(next() * 20_000)),
      () =>
        JSON.stringify(
          [...Array(Math.floor(next() * 300))].map((_, i) => ({
            jsonrpc: "2.0",
            id: i,
            method: "ping",
          })),
        ),
      () => "x".repeat(Math.floor(next() * 5_000_000)),
      () =>
        JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "ping",
          params: { pad: "y".repeat(Math.floor(next() * 3_000_000)) },
        }),
      () => "",
    ];
    const headerSets: Array<() => Record<string, string>> = [
      () => ({
        ...auth,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": session,
      }),
      () => ({
        ...auth,
        "content-type": pick(["text/plain", "application/json; charset=utf-8", "", "*/*"]),
        "mcp-session-id": session,
      }),
      () => ({
        authorization: pick([
          "Bearer wrong",
          "Basic abc",
          "Bearer",
          "x".repeat(20_000),
          `Bearer ${TOKEN}x`,
        ]),
        "content-type": "application/json",
      }),
      () => ({
        ...auth,
        "content-type": "application/json",
        "mcp-session-id": pick(["", "nope", "x".repeat(10_000), "../../etc"]),
      }),
      () => ({
        ...auth,
        "content-type": "application/json",
        "mcp-session-id": session,
        "mcp-protocol-version": pick(["1999-01-01", "", "x".repeat(300)]),
      }),
      () => ({
        ...auth,
        "content-type": "application/json",
        "mcp-session-id": session,
        origin: pick(["http://evil.example", "null", "file://"]),
      }),
      () => ({
        ...auth,
        "content-type": "application/json",
        "mcp-session-id": session,
        "x-pad": "z".repeat(Math.floor(next() * 40_000)),
      }),
    ];

    const problems: string[] = [];
    let sent = 0;
    const one = async () => {
      const method = pick(["POST", "POST", "POST", "POST", "GET", "DELETE", "PUT", "OPTIONS"]);
      const headers = pick(headerSets)();
      const body = method === "POST" ? pick(bodies)() : undefined;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
      } catch (error) {
        problems.push(`request failed: ${error}`);
        return;
      }
      sent++;
      const text = res.headers.get("content-type")?.startsWith("text/event-stream")
        ? (await res.body?.cancel(), "")
        : await res.text();
      if (!ALLOWED.has(res.status)) {
        problems.push(`status ${res.status} for ${method}: ${text.slice(0, 200)}`);
      }
      if (/\n\s+at |\.ts:\d+/.test(text)) {
        problems.push(`stack trace leaked: ${text.slice(0, 200)}`);
      }
      if (text.includes(TOKEN)) problems.push("the token leaked");
    };
    // A warm-up grows V8's heap to its working size (it keeps pages once taken); a leak of even
    // 2 KB per request would still add 20 MB over the 10,000 that follow.
    for (let round = 0; round < 50; round++) await Promise.all(Array.from({ length: 20 }, one));
    const baseline = rss(gateway.child.pid);
    sent = 0;
    for (let round = 0; round < 500; round++) await Promise.all(Array.from({ length: 20 }, one));
    assert.equal(sent, 10_000);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);

    await using client = await connectClient(url, { headers: auth });
    const echo = await client.callTool({ name: "up__echo", arguments: { text: "still alive" } });
    assert.equal((echo.content as Array<{ text: string }>)[0]!.text, "up:still alive");
    let after = rss(gateway.child.pid);
    for (let i = 0; i < 50 && after > baseline * 1.25 + 20e6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = rss(gateway.child.pid);
    }
    assert.ok(
      after <= baseline * 1.25 + 20e6,
      `RSS ${Math.round(baseline / 1e6)} MB before, ${Math.round(after / 1e6)} MB after`,
    );
    assert.doesNotMatch(gateway.log(), new RegExp(TOKEN), "the token is not in the log");
    await Deno.remove(dir, { recursive: true });
  },
});
