/**
 * JSON Schemas out of an OpenAPI document: local `$ref`s (`#/components/...`) followed or
 * inlined, recursion cut, and the OpenAPI 3.0 dialect (`nullable`, boolean `exclusiveMinimum`)
 * turned into the JSON Schema that MCP clients validate with.
 */
import { isJsonObject, type Json, type JsonObject } from "../mcp/jsonrpc.ts";

/** The OpenAPI document is unusable; the message says where and why. */
export class OpenApiError extends SyntaxError {
  override name = "OpenApiError";
}

// Keywords whose value is one schema, a list of schemas, or a mapping of names to schemas
// (JSON Schema 2020-12 §10, §11); every other keyword's value is data and is copied as is.
const SCHEMA_KEYWORDS = new Set([
  "items",
  "additionalProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
  "additionalItems",
]);
const SCHEMA_LIST_KEYWORDS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const SCHEMA_MAP_KEYWORDS = new Set([
  "properties",
  "patternProperties",
  "dependentSchemas",
  "$defs",
  "definitions",
]);
// OpenAPI annotations that are no JSON Schema keywords (OpenAPI 3.0 §4.7.24, 3.1 §4.8.24).
const OPENAPI_ONLY = new Set(["discriminator", "xml", "externalDocs", "example"]);

/** Most schema nodes one inlined schema may have, so shared `$ref`s cannot explode. */
const MAX_NODES = 50_000;

/** Reads the local references of one OpenAPI document. */
export class RefResolver {
  readonly #document: JsonObject;

  constructor(document: JsonObject) {
    this.#document = document;
  }

  /** Follows `$ref`s until a non-reference object (a parameter, request body, response…). */
  follow(value: Json | undefined): Json | undefined {
    const seen = new Set<string>();
    let current = value;
    while (isJsonObject(current) && typeof current.$ref === "string") {
      if (seen.has(current.$ref)) {
        throw new OpenApiError(`$ref '${current.$ref}' refers to itself`);
      }
      seen.add(current.$ref);
      current = this.#lookup(current.$ref);
    }
    return current;
  }

  /**
   * The schema `value` with every `$ref` inlined. A reference back to a schema being inlined
   * (a recursive type) is dropped, leaving its siblings (or `{}`, which accepts anything).
   */
  schema(value: Json | undefined): JsonObject {
    const budget = { nodes: MAX_NODES };
    const schema = this.#schema(value, [], budget);
    return isJsonObject(schema) ? schema : {};
  }

  #schema(value: Json | undefined, stack: readonly string[], budget: { nodes: number }): Json {
    if (!isJsonObject(value)) return typeof value === "boolean" ? value : {};
    if (--budget.nodes < 0) {
      throw new OpenApiError(
        `a schema is larger than ${MAX_NODES} nodes once its $refs are inlined`,
      );
    }
    let out: JsonObject = {};
    const ref = value.$ref;
    if (typeof ref === "string" && !stack.includes(ref)) {
      const target = this.#schema(this.#lookup(ref), [...stack, ref], budget);
      out = isJsonObject(target) ? { ...target } : {};
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" || OPENAPI_ONLY.has(key)) continue;
      if (SCHEMA_KEYWORDS.has(key)) out[key] = this.#schema(child, stack, budget);
      else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(child)) {
        out[key] = child.map((item) => this.#schema(item, stack, budget));
      } else if (SCHEMA_MAP_KEYWORDS.has(key) && isJsonObject(child)) {
        out[key] = Object.fromEntries(
          Object.entries(child).map(([name, item]) => [name, this.#schema(item, stack, budget)]),
        );
      } else out[key] = child;
    }
    return fromOpenApi30(out);
  }

  #lookup(ref: string): Json {
    if (!ref.startsWith("#")) {
      throw new OpenApiError(
        `$ref '${ref}' points outside the document (only '#/...' references are supported)`,
      );
    }
    let node: Json | undefined = this.#document;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      // JSON Pointer (RFC 6901) inside a URI fragment: percent-decoded first, then ~1 and ~0.
      const key = safeDecode(raw).replaceAll("~1", "/").replaceAll("~0", "~");
      node = Array.isArray(node)
        ? node[Number(key)]
        : isJsonObject(node) && Object.hasOwn(node, key)
        ? node[key]
        : undefined;
      if (node === undefined) throw new OpenApiError(`$ref '${ref}' does not resolve`);
    }
    return node;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Rewrites the OpenAPI 3.0 keywords JSON Schema spells differently; 3.1 schemas pass unchanged. */
function fromOpenApi30(schema: JsonObject): JsonObject {
  for (const bound of ["Minimum", "Maximum"] as const) {
    const exclusive = schema[`exclusive${bound}`];
    if (typeof exclusive !== "boolean") continue;
    const limit = schema[bound.toLowerCase()];
    delete schema[`exclusive${bound}`];
    if (exclusive && typeof limit === "number") {
      schema[`exclusive${bound}`] = limit;
      delete schema[bound.toLowerCase()];
    }
  }
  if (!("nullable" in schema)) return schema;
  const { nullable, ...rest } = schema;
  if (nullable !== true) return rest;
  if (Array.isArray(rest.enum) && !rest.enum.includes(null)) rest.enum = [...rest.enum, null];
  if (typeof rest.type === "string") return { ...rest, type: [rest.type, "null"] };
  if (Array.isArray(rest.type)) {
    return rest.type.includes("null") ? rest : { ...rest, type: [...rest.type, "null"] };
  }
  return { anyOf: [rest, { type: "null" }] };
}
