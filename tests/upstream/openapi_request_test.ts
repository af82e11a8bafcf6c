import assert from "node:assert/strict";
import type { JsonObject } from "../../src/mcp/jsonrpc.ts";
import { buildRequest, toolResult } from "../../src/upstream/openapi_request.ts";
import { type OpenApiOperation, openApiOperations } from "../../src/upstream/openapi_spec.ts";

/** The one operation of a document with `path` → `method` → `operation`. */
function operation(path: string, method: string, spec: JsonObject): OpenApiOperation {
  const { operations } = openApiOperations({
    openapi: "3.1.0",
    paths: { [path]: { [method]: { responses: {}, ...spec } } },
  });
  assert.equal(operations.length, 1);
  return operations[0]!;
}

const param = (name: string, where: string, extra: JsonObject = {}) => ({
  name,
  in: where,
  schema: { type: "string" },
  ...extra,
});

Deno.test("buildRequest() URL-encodes path parameters and serializes query and header styles", () => {
  const op = operation("/files/{dir}/{name}", "get", {
    parameters: [
      param("dir", "path", { required: true }),
      param("name", "path", { required: true }),
      param("tags", "query"),
      param("ids", "query", { explode: false }),
      param("pipes", "query", { style: "pipeDelimited" }),
      param("filter", "query", { style: "deepObject" }),
      param("page", "query"),
      param("limit", "query"),
      param("X-Ids", "header"),
      param("X-Unused", "header"),
    ],
  });
  const built = buildRequest("https://api.example.com/v1/", op, {
    dir: "a b",
    name: "x/y?z",
    tags: ["red", "blue"],
    ids: [1, 2],
    pipes: ["a", "b"],
    filter: { color: "red", size: 2 },
    page: { n: 3 },
    limit: 10,
    "X-Ids": [1, 2],
    "X-Unused": null,
  });
  assert.deepEqual(built, {
    url: "https://api.example.com/v1/files/a%20b/x%2Fy%3Fz?tags=red&tags=blue&ids=1%2C2" +
      "&pipes=a%7Cb&filter%5Bcolor%5D=red&filter%5Bsize%5D=2&n=3&limit=10",
    headers: { "x-ids": "1,2" },
    body: undefined,
  });
});

Deno.test("buildRequest() sends the body as JSON with its media type, and JSON-content parameters as JSON", () => {
  const op = operation("/search", "post", {
    parameters: [{ name: "q", in: "query", content: { "application/json": { schema: {} } } }],
    requestBody: { content: { "application/vnd.api+json": { schema: { type: "object" } } } },
  });
  assert.deepEqual(buildRequest("http://h", op, { q: { a: [1] }, body: { name: "x" } }), {
    url: "http://h/search?q=%7B%22a%22%3A%5B1%5D%7D",
    headers: { "content-type": "application/vnd.api+json" },
    body: '{"name":"x"}',
  });
  assert.deepEqual(buildRequest("http://h", op, {}), {
    url: "http://h/search",
    headers: {},
    body: undefined,
  });
});

Deno.test("buildRequest() names missing required arguments and refuses line breaks in headers", () => {
  const op = operation("/pets/{id}", "put", {
    parameters: [param("X-Tenant", "header", { required: true })],
    requestBody: { required: true, content: { "application/json": { schema: {} } } },
  });
  assert.deepEqual(buildRequest("http://h", op, { "X-Tenant": "t" }), {
    error: "missing required arguments 'id', 'body'",
  });
  assert.deepEqual(buildRequest("http://h", op, { id: 1, body: {} }), {
    error: "missing required argument 'X-Tenant'",
  });
  assert.deepEqual(buildRequest("http://h", op, { id: 1, body: {}, "X-Tenant": "a\r\nb: c" }), {
    error: "argument 'X-Tenant' contains a line break or NUL character",
  });
});

Deno.test("buildRequest() refuses path arguments that climb out of the base path with dot segments", () => {
  const base = "https://api.example.com/v1/tenants/42";
  const files = operation("/{dir}/{name}", "get", {
    parameters: [param("dir", "path", { required: true }), param("name", "path")],
  });
  assert.deepEqual(buildRequest(base, files, { dir: "..", name: "admin" }), {
    error: "the path '/../admin' has a '.' or '..' segment, which is not allowed",
  });
  assert.deepEqual(buildRequest(base, files, { dir: "docs", name: "." }), {
    error: "the path '/docs/.' has a '.' or '..' segment, which is not allowed",
  });
  const joined = operation("/files/{a}{b}", "get", {
    parameters: [param("a", "path", { required: true }), param("b", "path", { required: true })],
  });
  assert.deepEqual(buildRequest(base, joined, { a: ".", b: "." }), {
    error: "the path '/files/..' has a '.' or '..' segment, which is not allowed",
  });
  const encoded = buildRequest(base, files, { dir: "%2e%2e", name: "..x" });
  assert.deepEqual(encoded, {
    url: `${base}/%252e%252e/..x`,
    headers: {},
    body: undefined,
  }, "an encoded dot is sent as text, not as a segment the URL parser resolves");
  const escaping = operation("/..\\other", "get", {});
  assert.deepEqual(buildRequest(base, escaping, {}), {
    error: "the path '/..\\other' leads outside the API's base path '/v1/tenants/42'",
  });
});

Deno.test("toolResult() gives 2xx bodies as text, JSON objects as structuredContent, others as isError", () => {
  const plain = operation("/a", "get", {});
  const typed = operation("/b", "get", {
    responses: {
      "200": {
        description: "",
        content: { "application/json": { schema: { type: "object" } } },
      },
    },
  });
  const response = (status: number, headers: Record<string, string> = {}) =>
    new Response(null, { status, headers });
  assert.deepEqual(toolResult(plain, response(200), "hello"), {
    content: [{ type: "text", text: "hello" }],
  });
  assert.deepEqual(
    toolResult(plain, new Response(null, { status: 204, statusText: "No Content" }), ""),
    {
      content: [{ type: "text", text: "HTTP 204 No Content" }],
    },
  );
  assert.deepEqual(toolResult(typed, response(200), '{"n":1}'), {
    content: [{ type: "text", text: '{"n":1}' }],
    structuredContent: { n: 1 },
  });
  assert.deepEqual(toolResult(typed, response(200), "[1]"), {
    content: [{
      type: "text",
      text: "HTTP 200, but the body is not the JSON object the operation's response schema " +
        "describes: [1]",
    }],
    isError: true,
  });
  assert.deepEqual(
    toolResult(typed, new Response(null, { status: 422, statusText: "Unprocessable" }), "bad"),
    { content: [{ type: "text", text: "HTTP 422 Unprocessable: bad" }], isError: true },
  );
  const moved = response(302, { location: "https://u:p@elsewhere/?key=k" });
  assert.deepEqual(toolResult(plain, moved, ""), {
    content: [{
      type: "text",
      text: "HTTP 302 (a redirect to 'https://***@elsewhere/?key=***', not followed)",
    }],
    isError: true,
  });
});
