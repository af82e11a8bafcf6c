// What a 2026-07-28 client sees on the wire, checked with hand-built requests (spec 2026-07-28:
// basic/index, transports/streamable-http, server/utilities/caching):
// - every result carries `resultType` and the gateway's `serverInfo`;
// - lists and reads carry caching hints no fresher than the upstream's, private when the
//   upstream or the auth mode says so;
// - the validation ladder: -32022 with the supported list, -32020 for headers that do not mirror
//   the body (Base64 sentinel included), 404 -32601 for removed methods, -32602 for a bad
//   envelope, each echoing the request's id.

import assert from "node:assert/strict";
import { postJsonRpc, PROTOCOL_VERSION, readJsonRpcReply } from "../_support/client.ts";
import { MODERN_PROTOCOL_VERSION } from "../_support/era_client.ts";
import { gatewayInFront, type RunningGateway } from "../_support/gateway.ts";
import { callModern, ENVELOPE, mcpName, type ModernRequest, pick } from "../_support/modern_rpc.ts";
import { startEraFixture } from "../fixtures/era_server.ts";
import { ERA_CACHE_HINTS, README_URI } from "../fixtures/era_tools.ts";

/** The catalog refresh of a server by default (`tools.ttl_seconds`), the cap of every list hint. */
const REFRESH_MS = 300_000;
const APP_KEY = "app-key-0123456789";
const KEYS =
  "mcp:\n  auth:\n    mode: keys\n    clients:\n      - name: app\n        key_env: APP_KEY\n";

const hint = (h: { ttlMs: number; cacheScope: string }) =>
  `${Math.min(h.ttlMs, REFRESH_MS)}/${h.cacheScope}`;

/** Every cacheable request the fixture serves, and the hints a 2026 client should see for it. */
const CACHEABLE: ReadonlyArray<[string, Record<string, unknown>, keyof typeof ERA_CACHE_HINTS]> = [
  ["tools/list", {}, "tools/list"],
  ["prompts/list", {}, "prompts/list"],
  ["resources/list", {}, "resources/list"],
  ["resources/templates/list", {}, "resources/templates/list"],
  ["resources/read", { uri: README_URI }, "resources/read"],
];

function hintsOf(result: unknown): string {
  return `${pick(result, "ttlMs")}/${pick(result, "cacheScope")}`;
}

Deno.test("a 2026-07-28 client gets complete results and the validation ladder of the spec", async (t) => {
  const fixtures = await Promise.all(
    (["modern", "legacy"] as const).map((kind) => startEraFixture(kind)),
  );
  const [modern, legacy] = fixtures;
  const gateways = await Promise.all([
    gatewayInFront(modern!.url),
    gatewayInFront(legacy!.url),
    gatewayInFront(modern!.url, { head: KEYS, env: { APP_KEY } }),
  ]);
  const [gm, gl, gk] = gateways as [RunningGateway, RunningGateway, RunningGateway];
  try {
    await t.step("every 2026 result has resultType and the gateway's serverInfo", async () => {
      const requests: ModernRequest[] = [
        { id: 1, method: "server/discover" },
        { id: 2, method: "tools/list" },
        { id: 3, method: "tools/call", params: { name: "echo", arguments: { text: "x" } } },
        { id: 4, method: "prompts/list" },
        { id: 5, method: "prompts/get", params: { name: "greet", arguments: { name: "Ada" } } },
        { id: 6, method: "resources/list" },
        { id: 7, method: "resources/templates/list" },
        { id: 8, method: "resources/read", params: { uri: README_URI } },
        {
          id: 9,
          method: "completion/complete",
          params: {
            ref: { type: "ref/prompt", name: "greet" },
            argument: { name: "name", value: "A" },
          },
        },
      ];
      for (const gw of [gm, gl]) {
        for (const request of requests) {
          const { status, reply } = await callModern(gw.url, request);
          const where = `${request.method} via ${gw === gm ? "2026" : "legacy"} upstream`;
          assert.equal(status, 200, where);
          assert.equal(pick(reply, "result", "resultType"), "complete", where);
          assert.deepEqual(
            pick(reply, "result", "_meta", ENVELOPE.serverInfo),
            { name: "mcpstead", version: "test" },
            where,
          );
        }
      }
    });

    await t.step(
      "lists and reads carry the upstream's caching hints, capped by the refresh",
      async () => {
        const seen: Record<string, string> = {};
        const wanted: Record<string, string> = {};
        for (const [method, params, key] of CACHEABLE) {
          const { reply } = await callModern(gm.url, { id: method, method, params });
          seen[method] = hintsOf(reply.result);
          wanted[method] = hint(ERA_CACHE_HINTS[key]);
        }
        assert.deepEqual(seen, wanted);
      },
    );

    await t.step(
      "a legacy upstream's lists are fresh until the refresh, its reads at once",
      async () => {
        const list = await callModern(gl.url, { id: "l", method: "tools/list" });
        assert.equal(hintsOf(list.reply.result), `${REFRESH_MS}/public`);
        const read = await callModern(gl.url, {
          id: "r",
          method: "resources/read",
          params: { uri: README_URI },
        });
        assert.equal(hintsOf(read.reply.result), "0/private");
      },
    );

    await t.step("with API keys every cacheable result is private", async () => {
      const auth = { authorization: `Bearer ${APP_KEY}` };
      for (const [method, params] of [["server/discover", {}], ...CACHEABLE] as const) {
        const { status, reply } = await callModern(gk.url, {
          id: method,
          method,
          params,
          headers: auth,
        });
        assert.equal(status, 200, method);
        assert.equal(pick(reply, "result", "cacheScope"), "private", method);
      }
    });

    await t.step("an unsupported revision is 400 -32022 with the supported list", async () => {
      const { status, reply } = await callModern(gm.url, {
        id: "v1",
        method: "tools/list",
        envelope: { [ENVELOPE.protocolVersion]: "2099-01-01" },
        headers: { "mcp-protocol-version": "2099-01-01" },
      });
      assert.equal(status, 400);
      assert.equal(reply.id, "v1");
      assert.equal(reply.error?.code, -32022);
      assert.equal(pick(reply, "error", "data", "requested"), "2099-01-01");
      const supported = pick(reply, "error", "data", "supported") as string[];
      assert.ok(supported.includes(MODERN_PROTOCOL_VERSION), JSON.stringify(supported));
    });

    await t.step("headers that do not mirror the body are 400 -32020", async () => {
      const echo = { name: "echo", arguments: { text: "x" } };
      const cases: Array<[string, ModernRequest]> = [
        ["no Mcp-Method", { id: "h1", method: "tools/list", omit: ["mcp-method"] }],
        ["another Mcp-Method", {
          id: "h2",
          method: "tools/call",
          params: echo,
          headers: { "mcp-method": "tools/list" },
        }],
        ["no Mcp-Name", { id: "h3", method: "tools/call", params: echo, omit: ["mcp-name"] }],
        ["another Mcp-Name", {
          id: "h4",
          method: "tools/call",
          params: echo,
          headers: { "mcp-name": "links" },
        }],
        ["a Base64 Mcp-Name of another name", {
          id: "h5",
          method: "tools/call",
          params: echo,
          headers: { "mcp-name": `=?base64?${btoa("links")}?=` },
        }],
        ["a broken Base64 Mcp-Name", {
          id: "h6",
          method: "tools/call",
          params: echo,
          headers: { "mcp-name": "=?base64?ZWNo*w==?=" },
        }],
        ["no MCP-Protocol-Version", {
          id: "h7",
          method: "tools/list",
          omit: ["mcp-protocol-version"],
        }],
        ["an MCP-Protocol-Version other than the envelope's", {
          id: "h8",
          method: "tools/list",
          headers: { "mcp-protocol-version": "2099-01-01" },
        }],
        ["another Mcp-Name on resources/read", {
          id: "h9",
          method: "resources/read",
          params: { uri: README_URI },
          headers: { "mcp-name": "era://items/1" },
        }],
      ];
      for (const [label, request] of cases) {
        const { status, reply } = await callModern(gm.url, request);
        assert.equal(status, 400, label);
        assert.equal(reply.id, request.id, label);
        assert.equal(reply.error?.code, -32020, `${label}: ${JSON.stringify(reply.error)}`);
      }
    });

    await t.step(
      "an Mcp-Name in the Base64 sentinel form is decoded before it is compared",
      async () => {
        const sentinel = await callModern(gm.url, {
          id: "b1",
          method: "tools/call",
          params: { name: "echo", arguments: { text: "x" } },
          headers: { "mcp-name": `=?base64?${btoa("echo")}?=` },
        });
        assert.equal(pick(sentinel.reply, "result", "content", 0, "text"), "echo: x");
        const uri = "era://items/ü";
        assert.match(mcpName(uri), /^=\?base64\?/);
        const read = await callModern(gm.url, {
          id: "b2",
          method: "resources/read",
          params: { uri },
        });
        assert.equal(read.status, 200, JSON.stringify(read.reply));
        assert.equal(pick(read.reply, "result", "resultType"), "complete");
      },
    );

    await t.step("methods 2026-07-28 removed are 404 -32601", async () => {
      const removed: ModernRequest[] = [
        {
          id: "d1",
          method: "initialize",
          params: {
            protocolVersion: PROTOCOL_VERSION,
            capabilities: {},
            clientInfo: { name: "x", version: "1" },
          },
        },
        { id: "d2", method: "ping" },
        { id: "d3", method: "logging/setLevel", params: { level: "info" } },
        { id: "d4", method: "resources/subscribe", params: { uri: README_URI } },
        { id: "d5", method: "resources/unsubscribe", params: { uri: README_URI } },
      ];
      for (const request of removed) {
        const { status, reply } = await callModern(gm.url, request);
        assert.equal(status, 404, request.method);
        assert.equal(reply.id, request.id, request.method);
        assert.equal(reply.error?.code, -32601, request.method);
      }
    });

    await t.step("a bad envelope is 400 -32602", async () => {
      const bad: Array<[string, ModernRequest]> = [
        ["no clientCapabilities", {
          id: 41,
          method: "tools/list",
          envelope: { [ENVELOPE.clientCapabilities]: undefined },
        }],
        ["clientCapabilities not an object", {
          id: 42,
          method: "tools/list",
          envelope: { [ENVELOPE.clientCapabilities]: "all" },
        }],
        ["clientInfo without a version", {
          id: 43,
          method: "tools/list",
          envelope: { [ENVELOPE.clientInfo]: { name: "x" } },
        }],
        ["an unknown log level", {
          id: 44,
          method: "tools/list",
          envelope: { [ENVELOPE.logLevel]: "loud" },
        }],
      ];
      for (const [label, request] of bad) {
        const { status, reply } = await callModern(gm.url, request);
        assert.equal(status, 400, label);
        assert.equal(reply.id, request.id, label);
        assert.equal(reply.error?.code, -32602, `${label}: ${JSON.stringify(reply.error)}`);
      }
      const bare = await postJsonRpc(gm.url, { jsonrpc: "2.0", id: 45, method: "tools/list" }, {
        "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
        "mcp-method": "tools/list",
      });
      assert.equal(bare.status, 400);
      const reply = await readJsonRpcReply(bare, 45);
      assert.equal(reply.error?.code, -32602, "a modern header without an envelope");
    });
  } finally {
    await Promise.all(gateways.map((gw) => gw.close()));
    await Promise.all(fixtures.map((fixture) => fixture.close()));
  }
});
