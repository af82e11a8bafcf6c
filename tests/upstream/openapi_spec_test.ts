import assert from "node:assert/strict";
import type { JsonObject } from "../../src/mcp/jsonrpc.ts";
import { OpenApiError } from "../../src/upstream/openapi_schema.ts";
import {
  documentBaseUrl,
  openApiOperations,
  parseOpenApi,
} from "../../src/upstream/openapi_spec.ts";

/** A 3.1 document with `paths` and `components`. */
function doc(paths: JsonObject, components: JsonObject = {}): JsonObject {
  return { openapi: "3.1.0", info: { title: "T", version: "1" }, paths, components };
}

const ok = { "200": { description: "ok" } };

function toolsOf(document: JsonObject, fixedHeaders?: ReadonlySet<string>): JsonObject[] {
  return openApiOperations(document, fixedHeaders).operations.map((op) => op.tool);
}

function only(document: JsonObject, fixedHeaders?: ReadonlySet<string>): JsonObject {
  const [tool] = toolsOf(document, fixedHeaders);
  assert.ok(tool, "one tool");
  return tool;
}

Deno.test("openApiOperations() builds inputSchema from path, query and header parameters and the JSON body", () => {
  const { operations } = openApiOperations(doc({
    "/orgs/{org}/repos": {
      parameters: [
        { name: "org", in: "path", required: true, schema: { type: "string" } },
        { name: "limit", in: "query", schema: { type: "integer" } },
      ],
      post: {
        operationId: "createRepo",
        summary: "Create a repository",
        description: "In an organisation.",
        parameters: [
          { name: "limit", in: "query", description: "At most", schema: { type: "number" } },
          { name: "X-Request-Id", in: "header", required: true, schema: { type: "string" } },
          { name: "session", in: "cookie", schema: { type: "string" } },
        ],
        requestBody: {
          required: true,
          description: "The repository",
          content: {
            "application/json; charset=utf-8": {
              schema: { type: "object", properties: { name: { type: "string" } } },
            },
          },
        },
        responses: ok,
      },
    },
  }));
  assert.equal(operations.length, 1);
  const [op] = operations;
  assert.deepEqual(op!.tool, {
    name: "createRepo",
    description: "Create a repository\n\nIn an organisation.",
    inputSchema: {
      type: "object",
      properties: {
        body: {
          type: "object",
          properties: { name: { type: "string" } },
          description: "The repository",
        },
        org: { type: "string" },
        limit: { type: "number", description: "At most" },
        "X-Request-Id": { type: "string" },
      },
      required: ["body", "org", "X-Request-Id"],
    },
    annotations: { readOnlyHint: false },
  });
  assert.equal(op!.method, "POST");
  assert.deepEqual(op!.body, { required: true, mediaType: "application/json; charset=utf-8" });
  assert.deepEqual(
    op!.params.map((p) => [p.property, p.in, p.style, p.explode]),
    [["org", "path", "simple", false], ["limit", "query", "form", true], [
      "X-Request-Id",
      "header",
      "simple",
      false,
    ]],
  );
});

Deno.test("openApiOperations() inlines local $refs of parameters, bodies, responses and schemas", () => {
  const tool = only(doc({
    "/pets/{id}": {
      put: {
        operationId: "replacePet",
        parameters: [{ $ref: "#/components/parameters/Id" }],
        requestBody: { $ref: "#/components/requestBodies/PetBody" },
        responses: { "200": { $ref: "#/components/responses/PetResponse" } },
      },
    },
  }, {
    parameters: { Id: { name: "id", in: "path", required: true, schema: { type: "integer" } } },
    requestBodies: {
      PetBody: {
        content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } },
      },
    },
    responses: {
      PetResponse: {
        description: "ok",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } },
      },
    },
    schemas: {
      Pet: {
        type: "object",
        properties: { name: { type: "string" }, owner: { $ref: "#/components/schemas/Owner" } },
      },
      Owner: { type: "object", properties: { email: { type: "string", format: "email" } } },
    },
  }));
  const pet = {
    type: "object",
    properties: {
      name: { type: "string" },
      owner: { type: "object", properties: { email: { type: "string", format: "email" } } },
    },
  };
  assert.deepEqual(tool.inputSchema, {
    type: "object",
    properties: { body: pet, id: { type: "integer" } },
    required: ["id"],
  });
  assert.deepEqual(tool.outputSchema, pet);
  assert.deepEqual(tool.annotations, { readOnlyHint: false, idempotentHint: true });
});

Deno.test("openApiOperations() cuts a recursive $ref to {} and keeps sibling keywords", () => {
  const tool = only(doc({
    "/tree": {
      get: {
        operationId: "tree",
        parameters: [{
          name: "filter",
          in: "query",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } },
        }],
        responses: ok,
      },
    },
  }, {
    schemas: {
      Node: {
        type: "object",
        properties: {
          label: { type: "string" },
          children: { type: "array", items: { $ref: "#/components/schemas/Node" } },
          parent: { $ref: "#/components/schemas/Node", description: "Up one level" },
        },
      },
    },
  }));
  assert.deepEqual((tool.inputSchema as JsonObject).properties, {
    filter: {
      type: "object",
      properties: {
        label: { type: "string" },
        children: { type: "array", items: {} },
        parent: { description: "Up one level" },
      },
    },
  });
});

Deno.test("openApiOperations() names operations without operationId by method and path, sanitized and unique", () => {
  const names = toolsOf(doc({
    "/users/{id}/repos": { get: { responses: ok }, delete: { responses: ok } },
    "/": { get: { responses: ok } },
    "/a": { get: { operationId: "pets.list v2", responses: ok } },
    "/b": { get: { operationId: "pets.list v2", responses: ok } },
  })).map((tool) => tool.name);
  assert.deepEqual(names, [
    "get_users_id_repos",
    "delete_users_id_repos",
    "get",
    "pets_list_v2",
    "pets_list_v2_2",
  ]);
});

Deno.test("openApiOperations() renames a parameter whose name is taken by the body or another place", () => {
  const { operations } = openApiOperations(doc({
    "/items/{id}": {
      patch: {
        parameters: [
          { name: "id", in: "path", required: true, schema: { type: "string" } },
          { name: "id", in: "query", schema: { type: "string" } },
          { name: "body", in: "header", schema: { type: "string" } },
        ],
        requestBody: {
          content: { "application/merge-patch+json": { schema: { type: "object" } } },
        },
        responses: ok,
      },
    },
  }));
  const [op] = operations;
  assert.deepEqual(op!.params.map((p) => [p.property, p.name, p.in]), [
    ["id", "id", "path"],
    ["query_id", "id", "query"],
    ["header_body", "body", "header"],
  ]);
  assert.deepEqual(op!.body, { required: false, mediaType: "application/merge-patch+json" });
});

Deno.test("openApiOperations() leaves out headers the gateway sets and declares undeclared path parameters", () => {
  const tool = only(
    doc({
      "/things/{thingId}": {
        get: {
          parameters: [
            { name: "Authorization", in: "header", schema: { type: "string" } },
            { name: "X-Api-Key", in: "header", required: true, schema: { type: "string" } },
            { name: "X-Other", in: "header", schema: { type: "string" } },
          ],
          responses: ok,
        },
      },
    }),
    new Set(["x-api-key"]),
  );
  assert.deepEqual(tool.inputSchema, {
    type: "object",
    properties: { "X-Other": { type: "string" }, thingId: { type: "string" } },
    required: ["thingId"],
  });
  assert.equal(tool.description, "GET /things/{thingId}");
  assert.deepEqual(tool.annotations, { readOnlyHint: true, idempotentHint: true });
});

Deno.test("openApiOperations() turns OpenAPI 3.0 nullable and boolean exclusive bounds into JSON Schema", () => {
  const tool = only({
    ...doc({
      "/n": {
        get: {
          operationId: "n",
          parameters: [{
            name: "q",
            in: "query",
            schema: {
              type: "object",
              properties: {
                a: { type: "string", nullable: true, example: "x" },
                b: { type: "string", enum: ["x"], nullable: true },
                c: { allOf: [{ $ref: "#/components/schemas/C" }], nullable: true },
                d: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 9 },
                e: { type: "number", maximum: 9, exclusiveMaximum: false },
                example: { type: "string" },
              },
            },
          }],
          responses: ok,
        },
      },
    }, { schemas: { C: { type: "integer" } } }),
    openapi: "3.0.3",
  });
  assert.deepEqual(((tool.inputSchema as JsonObject).properties as JsonObject).q, {
    type: "object",
    properties: {
      a: { type: ["string", "null"] },
      b: { type: ["string", "null"], enum: ["x", null] },
      c: { anyOf: [{ allOf: [{ type: "integer" }] }, { type: "null" }] },
      d: { type: "number", exclusiveMinimum: 0, maximum: 9 },
      e: { type: "number", maximum: 9 },
      example: { type: "string" },
    },
  });
});

Deno.test("openApiOperations() takes outputSchema from the first JSON 2xx response, only for an object", () => {
  const output = (responses: JsonObject) =>
    only(doc({ "/x": { get: { operationId: "x", responses } } })).outputSchema;
  const json = (schema: JsonObject) => ({
    description: "",
    content: { "application/json": { schema } },
  });
  const object = { type: "object", properties: { n: { type: "integer" } } };
  assert.deepEqual(output({ "201": json(object), "200": { description: "none" } }), object);
  assert.deepEqual(output({ "2XX": json({ type: "string" }), "200": json(object) }), object);
  assert.equal(output({ "200": json({ type: "array", items: object }) }), undefined);
  assert.equal(output({ "400": json(object) }), undefined);
  assert.equal(output({ "200": { description: "", content: { "text/plain": {} } } }), undefined);
});

Deno.test("openApiOperations() leaves out operations that need a non-JSON body, and says why", () => {
  const { operations, skipped } = openApiOperations(doc({
    "/upload": {
      post: {
        operationId: "upload",
        requestBody: { required: true, content: { "multipart/form-data": {} } },
        responses: ok,
      },
      put: {
        operationId: "maybeUpload",
        requestBody: { content: { "application/octet-stream": {} } },
        responses: ok,
      },
    },
  }));
  assert.deepEqual(skipped, [
    "POST /upload: its request body is multipart/form-data; only JSON is supported",
  ]);
  assert.deepEqual(operations.map((op) => [op.tool.name, op.body]), [["maybeUpload", undefined]]);
});

Deno.test("openApiOperations() names the operation and the $ref that is broken", () => {
  const fails = (document: JsonObject, message: string) =>
    assert.throws(() => openApiOperations(document), (error) => {
      assert.ok(error instanceof OpenApiError);
      assert.equal(error.message, message);
      return true;
    });
  const withSchema = (schema: JsonObject) =>
    doc({
      "/x": {
        get: {
          parameters: [{ name: "q", in: "query", schema }],
          responses: ok,
        },
      },
    }, { parameters: { Loop: { $ref: "#/components/parameters/Loop" } } });
  fails(
    withSchema({ $ref: "#/components/schemas/Nope" }),
    "GET /x: $ref '#/components/schemas/Nope' does not resolve",
  );
  fails(
    withSchema({ $ref: "common.yaml#/Pet" }),
    "GET /x: $ref 'common.yaml#/Pet' points outside the document (only '#/...' references are supported)",
  );
  fails(
    doc({ "/x": { get: { parameters: [{ $ref: "#/components/parameters/Loop" }] } } }, {
      parameters: { Loop: { $ref: "#/components/parameters/Loop" } },
    }),
    "GET /x: $ref '#/components/parameters/Loop' refers to itself",
  );
  fails(
    doc({ "/x": { get: { parameters: [{ in: "query" }] } } }),
    "GET /x: parameter 0 has no name or no 'in'",
  );
  fails(
    doc({ "/x": { get: { parameters: [{ name: "q", in: "body" }] } } }),
    "GET /x: parameter 'q' is in 'body', an unknown place",
  );
  fails(doc({ "/x": { get: "nope" } }), "GET /x: not a mapping");
});

Deno.test("parseOpenApi() reads JSON and YAML documents and rejects what is no OpenAPI 3 document", () => {
  assert.equal(parseOpenApi('{"openapi": "3.0.0", "paths": {}}').openapi, "3.0.0");
  assert.deepEqual(parseOpenApi("openapi: 3.1.0\npaths:\n  /a: {}\n").paths, { "/a": {} });
  const fails = (text: string, message: string | RegExp) =>
    assert.throws(() => parseOpenApi(text), { name: "OpenApiError", message });
  fails('{"openapi": "3.0.0",', /^the document is neither valid JSON nor YAML: ./);
  fails("openapi: [3.1\n", /^the document is neither valid JSON nor YAML: ./);
  fails("- a\n- b\n", "the document is not a JSON or YAML mapping");
  fails(
    '{"swagger": "2.0"}',
    "Swagger 2.0 documents are not supported (convert it to OpenAPI 3)",
  );
  fails("info: {title: x}\n", "the document has no 'openapi' version field");
  fails(
    "openapi: 4.0.0\n",
    "OpenAPI version '4.0.0' is not supported (expected 3.0 or 3.1)",
  );
  fails("openapi: 3.1.0\npaths: [a]\n", "'paths' is not a mapping");
});

Deno.test("documentBaseUrl() resolves servers[0].url against the document, variables at their defaults", () => {
  const at = new URL("https://api.example.com/docs/openapi.json");
  const base = (servers: unknown, from = at) =>
    documentBaseUrl(
      { openapi: "3.1.0", ...(servers === undefined ? {} : { servers }) } as JsonObject,
      from,
    );
  assert.equal(base(undefined), "https://api.example.com/");
  assert.equal(base([{ url: "/v2" }]), "https://api.example.com/v2");
  assert.equal(
    base([{ url: "https://other.example.com/api" }, { url: "/x" }]),
    "https://other.example.com/api",
  );
  assert.equal(
    base([{
      url: "https://{region}.example.com/{version}",
      variables: { region: { default: "eu" }, version: { default: "v1", enum: ["v1"] } },
    }]),
    "https://eu.example.com/v1",
  );
  assert.throws(() => base([{ url: "https://{region}.example.com" }]), {
    message: "servers[0].url uses the variable 'region', which has no default",
  });
  assert.throws(() => base([{ url: "/v1" }], new URL("file:///srv/openapi.yaml")), {
    message:
      "servers[0].url '/v1' gives no http: or https: URL relative to the document (set base_url)",
  });
});
