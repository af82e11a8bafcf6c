import assert from "node:assert/strict";
import {
  checkParamHeaders,
  checkStandardHeaders,
  classify,
  decodeHeaderValue,
  encodeHeaderValue,
  type Envelope,
  isModernVersion,
  META,
  paramHeaders,
  withEnvelope,
  withoutReservedMeta,
} from "../../src/mcp/era.ts";
import { ErrorCode } from "../../src/mcp/jsonrpc.ts";

const ENVELOPE = {
  [META.protocolVersion]: "2026-07-28",
  [META.clientCapabilities]: { elicitation: {} },
  [META.clientInfo]: { name: "c", version: "1" },
};

const call = (meta: unknown, method = "tools/call") => ({
  jsonrpc: "2.0",
  id: 7,
  method,
  params: { name: "a__echo", _meta: meta },
});

Deno.test("isModernVersion() is true from 2026-07-28 on and false for 2025 revisions and junk", () => {
  assert.equal(isModernVersion("2026-07-28"), true);
  assert.equal(isModernVersion("2027-01-01"), true);
  assert.equal(isModernVersion("2025-11-25"), false);
  assert.equal(isModernVersion("zzzz"), false);
});

Deno.test("classify() serves an envelope as modern and everything else as before", () => {
  const modern = classify(call(ENVELOPE), "2026-07-28");
  assert.equal(modern.era, "modern");
  if (modern.era === "modern") {
    assert.equal(modern.envelope.protocolVersion, "2026-07-28");
    assert.deepEqual(modern.envelope.clientCapabilities, { elicitation: {} });
    assert.equal(modern.envelope.logLevel, undefined);
  }
  assert.equal(classify(call(undefined), null).era, "legacy");
  assert.equal(classify(call({ progressToken: 1 }), "2025-11-25").era, "legacy");
  assert.equal(classify([call(undefined)], null).era, "legacy");
  assert.equal(classify({ jsonrpc: "2.0", id: 1, result: {} }, null).era, "legacy");
});

Deno.test("classify() refuses a modern header without an envelope with -32602 naming the keys", () => {
  const result = classify(call(undefined), "2026-07-28");
  assert.equal(result.era, "refused");
  if (result.era !== "refused") return;
  assert.equal(result.refusal.status, 400);
  assert.equal(result.refusal.code, ErrorCode.InvalidParams);
  assert.match(result.refusal.message, /io\.modelcontextprotocol\/protocolVersion/);
});

Deno.test("classify() refuses a broken envelope with -32602 naming the key and the problem", () => {
  const missing = classify(call({ [META.protocolVersion]: "2026-07-28" }), "2026-07-28");
  assert.equal(missing.era, "refused");
  if (missing.era === "refused") {
    assert.equal(missing.refusal.code, ErrorCode.InvalidParams);
    assert.match(missing.refusal.message, /clientCapabilities: missing/);
  }
  const badLevel = classify(call({ ...ENVELOPE, [META.logLevel]: "loud" }), "2026-07-28");
  assert.equal(badLevel.era, "refused");
  if (badLevel.era === "refused") assert.match(badLevel.refusal.message, /logLevel/);
});

Deno.test("checkStandardHeaders() wants MCP-Protocol-Version, Mcp-Method and Mcp-Name to match the body", () => {
  const envelope: Envelope = {
    protocolVersion: "2026-07-28",
    clientCapabilities: {},
    clientInfo: undefined,
    logLevel: undefined,
  };
  const params = { name: "a__echo" };
  const headers = (entries: Record<string, string>) => new Headers(entries);
  const ok = headers({
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "a__echo",
  });
  assert.equal(checkStandardHeaders("tools/call", params, envelope, ok), undefined);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [
      { "mcp-method": "tools/call", "mcp-name": "a__echo" },
      /MCP-Protocol-Version header is missing/,
    ],
    [
      { "mcp-protocol-version": "2026-07-28", "mcp-name": "a__echo" },
      /Mcp-Method header is missing/,
    ],
    [
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list", "mcp-name": "a__echo" },
      /'tools\/list' does not match body value 'tools\/call'/,
    ],
    [
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call" },
      /Mcp-Name header is missing/,
    ],
    [
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "other" },
      /'other' does not match body value 'a__echo'/,
    ],
    [
      {
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "=?base64?!!?=",
      },
      /invalid Base64/,
    ],
  ];
  for (const [entries, message] of cases) {
    const refusal = checkStandardHeaders("tools/call", params, envelope, headers(entries));
    assert.equal(refusal?.code, ErrorCode.HeaderMismatch, JSON.stringify(entries));
    assert.equal(refusal?.status, 400);
    assert.match(refusal!.message, message);
  }
  const listHeaders = headers({ "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" });
  assert.equal(checkStandardHeaders("tools/list", undefined, envelope, listHeaders), undefined);
});

Deno.test("encodeHeaderValue() and decodeHeaderValue() use the Base64 sentinel for unsafe values", () => {
  assert.equal(encodeHeaderValue("us-west1"), "us-west1");
  assert.equal(encodeHeaderValue("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
  assert.equal(encodeHeaderValue(" padded "), "=?base64?IHBhZGRlZCA=?=");
  assert.equal(encodeHeaderValue("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
  for (
    const text of ["us-west1", "Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?="]
  ) {
    assert.equal(decodeHeaderValue(encodeHeaderValue(text)), text);
  }
  assert.equal(decodeHeaderValue("=?base64?not base64?="), undefined);
});

Deno.test("paramHeaders() mirrors x-mcp-header arguments, and checkParamHeaders() checks them", () => {
  const schema = {
    type: "object",
    properties: {
      region: { type: "string", "x-mcp-header": "Region" },
      limit: { type: "integer", "x-mcp-header": "Limit" },
      nested: {
        type: "object",
        properties: { tenant: { type: "string", "x-mcp-header": "Tenant" } },
      },
      query: { type: "string" },
    },
  };
  const args = { region: "eu 1 ", limit: 42, nested: { tenant: "acme" }, query: "x" };
  const headers = paramHeaders(schema, args);
  assert.deepEqual(headers, {
    "mcp-param-region": encodeHeaderValue("eu 1 "),
    "mcp-param-limit": "42",
    "mcp-param-tenant": "acme",
  });
  assert.equal(checkParamHeaders(schema, args, new Headers(headers)), undefined);
  assert.equal(
    checkParamHeaders(schema, args, new Headers({ ...headers, "mcp-param-limit": "42.0" })),
    undefined,
  );
  const wrong = checkParamHeaders(
    schema,
    args,
    new Headers({ ...headers, "mcp-param-tenant": "evil" }),
  );
  assert.equal(wrong?.code, ErrorCode.HeaderMismatch);
  const { "mcp-param-region": _, ...missingRegion } = headers;
  assert.match(
    checkParamHeaders(schema, args, new Headers(missingRegion))!.message,
    /Mcp-Param-Region/,
  );
  assert.equal(checkParamHeaders(schema, { query: "x" }, new Headers()), undefined);
});

Deno.test("withoutReservedMeta() drops only io.modelcontextprotocol/ keys and copies nothing without them", () => {
  const plain = { name: "x", _meta: { progressToken: 3 } };
  assert.equal(withoutReservedMeta(plain), plain);
  assert.deepEqual(
    withoutReservedMeta({ name: "x", _meta: { ...ENVELOPE, progressToken: 3 } }),
    plain,
  );
  assert.deepEqual(withoutReservedMeta({ name: "x", _meta: ENVELOPE }), { name: "x" });
});

Deno.test("withEnvelope() replaces the client's reserved keys with the gateway's", () => {
  const out = withEnvelope(
    { name: "x", _meta: { [META.clientInfo]: { name: "evil", version: "0" }, progressToken: 1 } },
    { [META.protocolVersion]: "2026-07-28", [META.clientCapabilities]: {} },
  );
  assert.deepEqual(out, {
    name: "x",
    _meta: {
      progressToken: 1,
      [META.protocolVersion]: "2026-07-28",
      [META.clientCapabilities]: {},
    },
  });
});
