import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.ts";
import { StreamableSession } from "../../src/upstream/streamable_session.ts";

const options = {
  server: "up",
  url: "http://127.0.0.1:1/mcp",
  headers: { authorization: "Bearer t" },
  userAgent: "test",
  log: silentLogger,
};

Deno.test("StreamableSession sends the session id and protocol version it was given, until reset()", () => {
  const session = new StreamableSession(options);
  assert.equal(session.post()["mcp-session-id"], undefined);
  session.adopt("s-1");
  session.initialized("2025-11-25");
  assert.deepEqual(session.post(), {
    authorization: "Bearer t",
    accept: "application/json, text/event-stream",
    "user-agent": "test",
    "content-type": "application/json",
    "mcp-session-id": "s-1",
    "mcp-protocol-version": "2025-11-25",
  });
  assert.equal(session.withoutBody("7")["last-event-id"], "7");
  assert.equal(session.withoutBody().accept, "text/event-stream");
  session.adopt("s-2");
  assert.equal(session.post()["mcp-session-id"], "s-2");
  session.reset();
  assert.equal(session.id, undefined);
  assert.equal(session.post()["mcp-session-id"], undefined);
  assert.equal(session.post()["mcp-protocol-version"], undefined);
});

Deno.test("StreamableSession.modern() mirrors the method and name, with no session", () => {
  const session = new StreamableSession(options);
  session.adopt("s-1");
  const call = { jsonrpc: "2.0" as const, id: 1, method: "resources/read", params: { uri: "é" } };
  const headers = session.modern(call, "2026-07-28", { "mcp-param-region": "eu" });
  assert.equal(headers["mcp-session-id"], undefined);
  assert.equal(headers["mcp-method"], "resources/read");
  assert.equal(headers["mcp-name"], "=?base64?w6k=?=");
  assert.equal(headers["mcp-param-region"], "eu");
});
