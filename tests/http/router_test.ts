import assert from "node:assert/strict";
import { createRouter } from "../../src/http/router.ts";

const router = createRouter({
  "/mcp": { POST: () => new Response("post"), DELETE: () => new Response("delete") },
  "/health": { GET: () => new Response("ok") },
});

Deno.test("createRouter() answers 404 for an unknown path, including a trailing slash", async () => {
  for (const path of ["/nope", "/mcp/", "/"]) {
    const res = await router(new Request(`http://127.0.0.1${path}`), {});
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
});

Deno.test("createRouter() answers 405 with Allow for a known path and another method", async () => {
  const res = await router(new Request("http://127.0.0.1/mcp", { method: "PUT" }), {});
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST, DELETE");
  await res.body?.cancel();
});

Deno.test("createRouter() ignores the query string and serves HEAD for GET routes", async () => {
  const get = await router(new Request("http://127.0.0.1/health?x=1"), {});
  assert.equal(await get.text(), "ok");
  const head = await router(new Request("http://127.0.0.1/health", { method: "HEAD" }), {});
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
});

Deno.test("createRouter() serves every path under a /* route, the longest prefix first", async () => {
  const prefixed = createRouter({
    "/api/*": { POST: () => new Response("api") },
    "/api/tools/*": { POST: () => new Response("tools") },
    "/api": { GET: () => new Response("exact") },
  });
  const answer = async (path: string, method = "POST") => {
    const res = await prefixed(new Request(`http://127.0.0.1${path}`, { method }), {});
    return `${res.status} ${await res.text()}`;
  };
  assert.equal(await answer("/api/a/b"), "200 api");
  assert.equal(await answer("/api/tools/x"), "200 tools");
  assert.equal(await answer("/api", "GET"), "200 exact");
  assert.equal(await answer("/apis/x"), "404 Not Found\n");
});
