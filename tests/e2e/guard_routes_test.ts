/**
 * The Host/Origin guard on every route, and who may reload the config: what a hostile page (DNS
 * rebinding, cross-site forms and fetches) and a client without admin rights get.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startGateway } from "../_support/gateway.ts";
import { RawClient, splitResponses } from "../_support/raw_http.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** Every route, as a request a page could make. */
const ROUTES: Array<[string, string, string?]> = [
  ["POST", "/mcp", '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'],
  ["GET", "/health"],
  ["GET", "/metrics"],
  ["GET", "/ui"],
  ["GET", "/ui/tools"],
  ["GET", "/openapi.json"],
  ["POST", "/api/tools/x", "{}"],
  ["POST", "/-/reload", "{}"],
  ["OPTIONS", "/mcp"],
];

function request(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Request {
  return new Request(`http://${headers.host}${path}`, {
    method,
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

Deno.test("a rebound Host is refused on every route of a gateway bound to 0.0.0.0; loopback still works", async () => {
  await using gw = await startGateway(
    "host: 0.0.0.0\nmcp:\n  allow_unauthenticated_remote: true\n  allowed_origins: [https://app.example.com]\n",
  );
  const attacker = { host: "attacker.example:8766", origin: "http://attacker.example:8766" };
  for (const [method, path, body] of ROUTES) {
    const res = await gw.gateway.handler(request(method, path, attacker, body), {});
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.match(
      await res.text(),
      /Host 'attacker.example:8766' is not one of the gateway's names/,
    );
  }
  const local = { host: "127.0.0.1:8766", origin: "https://app.example.com" };
  for (const [method, path, body] of ROUTES) {
    const res = await gw.gateway.handler(request(method, path, local, body), {});
    assert.ok(res.status !== 403 && res.status !== 400, `${method} ${path}: ${res.status}`);
    await res.body?.cancel();
  }
});

Deno.test("mcp.allowed_hosts: a listed Host is served over the wire, an unlisted one gets 403", async () => {
  await using gw = await startGateway("mcp:\n  allowed_hosts: [mcp.example.internal]\n");
  const port = Number(new URL(gw.base).port);
  using raw = await RawClient.open(port);
  const initialize = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":' +
    '{"protocolVersion":"2025-06-18","capabilities":{},' +
    '"clientInfo":{"name":"wire","version":"1"}}}';
  const post = (host: string) =>
    `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\n` +
    `Content-Length: ${initialize.length}\r\n\r\n${initialize}`;
  await raw.send(post(`mcp.example.internal:${port}`));
  await raw.send(post(`MCP.Example.Internal.:${port}`));
  await raw.send(post(`other.example:${port}`));
  const [listed, cased, unlisted] = splitResponses(await raw.readResponses(3));
  for (const served of [listed!, cased!]) {
    assert.equal(served.status, 200, served.body);
    assert.match(served.headers["mcp-session-id"] ?? "", /^\S+$/);
    assert.match(served.body, /"serverInfo":\{"name":"mcpstead"/);
  }
  assert.equal(unlisted!.status, 403);
  assert.equal(unlisted!.headers["mcp-session-id"], undefined);
  assert.deepEqual(JSON.parse(unlisted!.body), {
    jsonrpc: "2.0",
    id: null,
    error: {
      code: -32600,
      message: `Forbidden: Host 'other.example:${port}' is not one of the gateway's names ` +
        "(see mcp.allowed_hosts)",
    },
  });
});

Deno.test("a foreign Origin is refused on every route, and a malformed Host gets 400", async () => {
  await using gw = await startGateway("");
  for (const [method, path, body] of ROUTES) {
    const foreign = await gw.gateway.handler(
      request(method, path, { host: "127.0.0.1:8766", origin: "https://evil.example" }, body),
      {},
    );
    assert.equal(foreign.status, 403, `${method} ${path}`);
    assert.match(await foreign.text(), /Origin 'https:\/\/evil.example' is not allowed/);
    const smuggled = await gw.gateway.handler(
      new Request(`http://127.0.0.1:8766${path}`, {
        method,
        headers: { host: "127.0.0.1:8766/-/reload?", "content-type": "application/json" },
        ...(body === undefined ? {} : { body }),
      }),
      {},
    );
    assert.equal(smuggled.status, 400, `${method} ${path}`);
    assert.match(await smuggled.text(), /Host '127.0.0.1:8766\/-\/reload\?' is not a host name/);
  }
});

Deno.test("a Host with a path cannot reach /-/reload over the wire", async () => {
  await using gw = await startGateway("");
  const port = new URL(gw.base).port;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const head = [
    "POST /health HTTP/1.1",
    `Host: 127.0.0.1:${port}/-/reload?`,
    "Content-Type: application/json",
    "Content-Length: 2",
    "Connection: close",
    "",
    "{}",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  const answer = await new Response(conn.readable).text();
  const [refused] = splitResponses(answer);
  assert.ok(refused, answer);
  assert.equal(refused.status, 400, answer);
  assert.equal(
    refused.body,
    `Bad Request: Host "127.0.0.1:${port}/-/reload?" is not a host name or address with an ` +
      "optional port\n",
  );
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.doesNotMatch(metrics, /^mcpstead_config_reloads_total\{result="success"\} [1-9]/m);
});

const reload = (
  gw: { gateway: { handler: (req: Request, info: object) => Response | Promise<Response> } },
  headers: Record<string, string> = {},
  body = "{}",
) =>
  Promise.resolve(gw.gateway.handler(
    new Request("http://127.0.0.1:8766/-/reload", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    }),
    {},
  ));

Deno.test("POST /-/reload takes only JSON {} from an admin key; other keys get 403", async () => {
  await using gw = await startGateway(`mcp:
  auth:
    mode: keys
    clients:
      - name: ops
        key_sha256: ${sha("ops-key")}
        admin: true
      - name: app
        key_sha256: ${sha("app-key")}
`);
  const app = await reload(gw, { authorization: "Bearer app-key" });
  assert.equal(app.status, 403);
  assert.equal(
    await app.text(),
    "Cannot reload: client 'app' is not an admin (set admin: true on it under mcp.auth.clients or mcp.auth.users)\n",
  );
  assert.equal((await reload(gw)).status, 401);
  const ops = { authorization: "Bearer ops-key" };
  const form = await reload(gw, { ...ops, "content-type": "application/x-www-form-urlencoded" });
  assert.equal(form.status, 415);
  assert.match(await form.text(), /send Content-Type: application\/json and the body \{\}/);
  const text = await reload(gw, { ...ops, "content-type": "text/plain" });
  assert.equal(text.status, 415);
  await text.body?.cancel();
  for (const body of ['{"x":1}', "[]", "", "nope"]) {
    const bad = await reload(gw, ops, body);
    assert.equal(bad.status, 400, body);
    await bad.body?.cancel();
  }
  const done = await reload(gw, ops);
  assert.equal(done.status, 200);
  assert.equal((await done.json()).added, 0);
});

Deno.test("POST /-/reload: an HTTP Basic user with admin: true may reload; other users get 403", async () => {
  await using gw = await startGateway(`mcp:
  auth:
    mode: basic
    users:
      - name: root
        password_sha256: ${sha("root pass")}
        admin: true
      - name: ana
        password_sha256: ${sha("ana pass")}
`);
  const post = (user: string, password: string) =>
    fetch(`${gw.base}/-/reload`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${btoa(`${user}:${password}`)}`,
      },
      body: "{}",
    });
  const ana = await post("ana", "ana pass");
  assert.equal(ana.status, 403);
  assert.equal(
    await ana.text(),
    "Cannot reload: client 'ana' is not an admin (set admin: true on it under mcp.auth.clients or mcp.auth.users)\n",
  );
  const wrong = await post("root", "ana pass");
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const reloads = async () => {
    const metrics = await (await fetch(`${gw.base}/metrics`, {
      headers: { authorization: `Basic ${btoa("root:root pass")}` },
    })).text();
    return metrics.match(/^mcpstead_config_reloads_total\{result="success"\} (\d+)$/m)?.[1];
  };
  assert.equal(await reloads(), undefined, "no reload yet");
  const root = await post("root", "root pass");
  assert.equal(root.status, 200);
  assert.equal((await root.json()).added, 0);
  assert.equal(await reloads(), "1");
});

Deno.test("POST /-/reload: the bearer token may reload; with auth off it is allowed but guarded", async () => {
  {
    await using gw = await startGateway("mcp:\n  auth:\n    mode: bearer\n", {
      MCPSTEAD_BEARER_TOKEN: "tok",
    });
    const res = await reload(gw, { authorization: "Bearer tok" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  await using gw = await startGateway("");
  const res = await reload(gw);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const page = await reload(gw, { origin: "https://evil.example" });
  assert.equal(page.status, 403);
  await page.body?.cancel();
});

Deno.test("a reload that would expose a 0.0.0.0 gateway without auth is refused", async () => {
  await using gw = await startGateway("host: 0.0.0.0\nmcp:\n  auth:\n    mode: bearer\n", {
    MCPSTEAD_BEARER_TOKEN: "tok",
  });
  gw.rewrite("host: 0.0.0.0\n");
  const res = await reload(gw, { authorization: "Bearer tok" });
  assert.equal(res.status, 400);
  assert.match(
    await res.text(),
    /^Cannot reload: host '0\.0\.0\.0' accepts connections from other machines and mcp\.auth\.mode is 'none'/,
  );
  const still = await reload(gw);
  assert.equal(still.status, 401, "the running config (bearer) is kept");
  await still.body?.cancel();
});
