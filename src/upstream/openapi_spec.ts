/**
 * An OpenAPI 3.0/3.1 document as MCP tools: one tool per operation, named by its `operationId`
 * (or by method and path), whose input schema holds the path, query and header parameters as
 * properties and the JSON request body under `body`, and whose output schema is the JSON 2xx
 * response schema when that is an object.
 */
import { parse as parseYaml } from "yaml";
import { isJsonObject, type Json, type JsonObject } from "../mcp/jsonrpc.ts";
import { OpenApiError, RefResolver } from "./openapi_schema.ts";

/** The input property that holds the request body. */
export const BODY_PROPERTY = "body";

/** Where a parameter goes in the HTTP request (cookie parameters are not sent). */
export type ParameterLocation = "path" | "query" | "header";

/** How one tool argument becomes part of the HTTP request (OpenAPI 3.1 §4.8.12). */
export interface ParameterBinding {
  /** The input property holding the value. */
  property: string;
  /** The parameter's name in the request. */
  name: string;
  in: ParameterLocation;
  required: boolean;
  /** `form`, `spaceDelimited`, `pipeDelimited` or `deepObject` in the query; `simple` elsewhere. */
  style: string;
  explode: boolean;
  /** Sent as JSON text (a parameter described by `content` rather than `schema`). */
  json: boolean;
}

/** One operation: its tool and how a call becomes an HTTP request. */
export interface OpenApiOperation {
  /** The HTTP method, upper case. */
  method: string;
  /** The path template, e.g. `/pets/{petId}`. */
  path: string;
  params: ParameterBinding[];
  /** The JSON request body, when the operation takes one. */
  body: { required: boolean; mediaType: string } | undefined;
  /** The MCP tool definition (name, description, inputSchema, outputSchema, annotations). */
  tool: JsonObject;
}

/** What {@linkcode openApiOperations} found. */
export interface OpenApiOperations {
  operations: OpenApiOperation[];
  /** Operations left out, each as "<METHOD> <path>: <reason>". */
  skipped: string[];
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// RFC 9110 §9.2: safe methods read only; these and PUT and DELETE may be repeated.
const SAFE = new Set(["get", "head", "options", "trace"]);
const IDEMPOTENT = new Set([...SAFE, "put", "delete"]);
// OpenAPI 3.1 §4.8.12.1: header parameters with these names SHALL be ignored.
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
const LOCATIONS = new Set(["path", "query", "header", "cookie"]);

/** Parses an OpenAPI 3.0/3.1 document written in JSON or YAML; throws an {@link OpenApiError}. */
export function parseOpenApi(text: string): JsonObject {
  let data: unknown;
  try {
    data = text.trimStart().startsWith("{") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new OpenApiError(`the document is neither valid JSON nor YAML: ${why}`);
  }
  if (!isJsonObject(data)) throw new OpenApiError("the document is not a JSON or YAML mapping");
  if ("swagger" in data) {
    throw new OpenApiError(
      `Swagger ${String(data.swagger)} documents are not supported (convert it to OpenAPI 3)`,
    );
  }
  const version = data.openapi;
  if (typeof version !== "string") {
    throw new OpenApiError("the document has no 'openapi' version field");
  }
  if (!/^3\.[01]\./.test(version)) {
    throw new OpenApiError(`OpenAPI version '${version}' is not supported (expected 3.0 or 3.1)`);
  }
  if (data.paths !== undefined && !isJsonObject(data.paths)) {
    throw new OpenApiError("'paths' is not a mapping");
  }
  return data;
}

/**
 * The base URL of the API: the document's `servers[0].url` with its variables at their defaults
 * (`/` when there is none), relative to `documentUrl`.
 */
export function documentBaseUrl(document: JsonObject, documentUrl: URL): string {
  const [server] = Array.isArray(document.servers) ? document.servers : [];
  let template = "/";
  if (isJsonObject(server) && typeof server.url === "string") {
    const variables = isJsonObject(server.variables) ? server.variables : {};
    template = server.url.replace(/\{([^}]*)\}/g, (_, name: string) => {
      const variable = variables[name];
      if (isJsonObject(variable) && typeof variable.default === "string") return variable.default;
      throw new OpenApiError(`servers[0].url uses the variable '${name}', which has no default`);
    });
  }
  const url = URL.parse(template, documentUrl);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new OpenApiError(
      `servers[0].url '${template}' gives no http: or https: URL relative to the document ` +
        "(set base_url)",
    );
  }
  return url.href;
}

/**
 * Every operation of `document` in document order. Header parameters named in `fixedHeaders`
 * (lowercase; the gateway sends them from the config) are not asked of callers.
 */
export function openApiOperations(
  document: JsonObject,
  fixedHeaders: ReadonlySet<string> = new Set(),
): OpenApiOperations {
  const resolver = new RefResolver(document);
  const operations: OpenApiOperation[] = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  for (
    const [path, rawItem] of Object.entries(isJsonObject(document.paths) ? document.paths : {})
  ) {
    const item = withContext(path, () => resolver.follow(rawItem));
    if (!isJsonObject(item)) throw new OpenApiError(`${path}: the path item is not a mapping`);
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!isJsonObject(operation)) throw new OpenApiError(`${where}: not a mapping`);
      const built = withContext(
        where,
        () => buildOperation(resolver, method, path, item, operation, fixedHeaders, names),
      );
      if (typeof built === "string") skipped.push(`${where}: ${built}`);
      else operations.push(built);
    }
  }
  return { operations, skipped };
}

/** Runs `work`, prefixing the message of an {@link OpenApiError} with `where`. */
function withContext<T>(where: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof OpenApiError) throw new OpenApiError(`${where}: ${error.message}`);
    throw error;
  }
}

/** One operation, or the reason it cannot be offered as a tool. */
function buildOperation(
  resolver: RefResolver,
  method: string,
  path: string,
  item: JsonObject,
  operation: JsonObject,
  fixedHeaders: ReadonlySet<string>,
  names: Set<string>,
): OpenApiOperation | string {
  const properties: JsonObject = {};
  const required: string[] = [];
  const taken = new Set<string>();
  const requestBody = resolver.follow(operation.requestBody);
  let body: OpenApiOperation["body"];
  if (isJsonObject(requestBody)) {
    const content = isJsonObject(requestBody.content) ? requestBody.content : {};
    const mediaType = Object.keys(content).find((type) => JSON_MEDIA_TYPE.test(type));
    const isRequired = requestBody.required === true;
    if (mediaType !== undefined) {
      const media = content[mediaType];
      const schema = resolver.schema(isJsonObject(media) ? media.schema : undefined);
      properties[BODY_PROPERTY] = described(schema, requestBody.description);
      if (isRequired) required.push(BODY_PROPERTY);
      taken.add(BODY_PROPERTY);
      body = { required: isRequired, mediaType };
    } else if (isRequired) {
      return `its request body is ${Object.keys(content).join(" or ")}; only JSON is supported`;
    }
  }
  const params: ParameterBinding[] = [];
  for (const param of parameters(resolver, path, item, operation)) {
    const location = param.in;
    if (location === "cookie") continue;
    if (location === "header" && isFixedHeader(param.name, fixedHeaders)) continue;
    const property = taken.has(param.name)
      ? uniqueName(`${location}_${param.name}`, taken)
      : param.name;
    taken.add(property);
    const isRequired = location === "path" || param.required === true;
    const style = typeof param.style === "string"
      ? param.style
      : location === "query"
      ? "form"
      : "simple";
    params.push({
      property,
      name: param.name,
      in: location,
      required: isRequired,
      style,
      explode: typeof param.explode === "boolean" ? param.explode : style === "form",
      json: param.schema === undefined && isJsonObject(param.content),
    });
    properties[property] = described(resolver.schema(parameterSchema(param)), param.description);
    if (isRequired) required.push(property);
  }
  const output = outputSchema(resolver, operation.responses);
  const tool: JsonObject = {
    name: toolName(method, path, operation.operationId, names),
    description: describe(method, path, operation),
    inputSchema: {
      type: "object",
      properties,
      ...(required.length > 0 ? { required } : {}),
    },
    ...(output === undefined ? {} : { outputSchema: output }),
    annotations: {
      readOnlyHint: SAFE.has(method),
      ...(IDEMPOTENT.has(method) ? { idempotentHint: true } : {}),
    },
  };
  return { method: method.toUpperCase(), path, params, body, tool };
}

type Parameter = JsonObject & { name: string; in: ParameterLocation | "cookie" };

/**
 * The operation's parameters over its path item's (same name and location: the operation's
 * wins), plus any `{name}` of the path template nobody declared, as a required string.
 */
function parameters(
  resolver: RefResolver,
  path: string,
  item: JsonObject,
  operation: JsonObject,
): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const list of [item.parameters, operation.parameters]) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new OpenApiError("'parameters' is not a list");
    list.forEach((raw, index) => {
      const param = resolver.follow(raw);
      if (
        !isJsonObject(param) || typeof param.name !== "string" || typeof param.in !== "string"
      ) {
        throw new OpenApiError(`parameter ${index} has no name or no 'in'`);
      }
      if (!LOCATIONS.has(param.in)) {
        throw new OpenApiError(`parameter '${param.name}' is in '${param.in}', an unknown place`);
      }
      byKey.set(`${param.in}:${param.name}`, param as Parameter);
    });
  }
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (name !== undefined && !byKey.has(`path:${name}`)) {
      byKey.set(`path:${name}`, { name, in: "path", required: true, schema: { type: "string" } });
    }
  }
  return [...byKey.values()];
}

function parameterSchema(param: JsonObject): Json | undefined {
  if (param.schema !== undefined || !isJsonObject(param.content)) return param.schema;
  const [media] = Object.values(param.content);
  return isJsonObject(media) ? media.schema : undefined;
}

function isFixedHeader(name: string, fixedHeaders: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return IGNORED_HEADERS.has(lower) || fixedHeaders.has(lower);
}

/** The JSON schema of the first 2xx response that has one, when it describes an object. */
function outputSchema(resolver: RefResolver, responses: Json | undefined): JsonObject | undefined {
  if (!isJsonObject(responses)) return undefined;
  // "200" < "201" < "2XX": specific codes first (OpenAPI 3.1 §4.8.16.2).
  const codes = Object.keys(responses).filter((code) => /^2(\d\d|XX)$/i.test(code)).sort();
  for (const code of codes) {
    const response = resolver.follow(responses[code]);
    const content = isJsonObject(response) && isJsonObject(response.content)
      ? response.content
      : {};
    const mediaType = Object.keys(content).find((type) => JSON_MEDIA_TYPE.test(type));
    const media = mediaType === undefined ? undefined : content[mediaType];
    if (!isJsonObject(media) || media.schema === undefined) continue;
    const schema = resolver.schema(media.schema);
    return schema.type === "object" ? schema : undefined;
  }
  return undefined;
}

function toolName(
  method: string,
  path: string,
  operationId: Json | undefined,
  names: Set<string>,
): string {
  const raw = typeof operationId === "string" && operationId.trim() !== ""
    ? operationId
    : [method, ...path.split(/[/{}]+/)].filter((part) => part !== "").join("_");
  const sanitized = raw.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || method;
  const name = uniqueName(sanitized, names);
  names.add(name);
  return name;
}

/** `base`, or `base_2`, `base_3`… whichever `taken` does not hold yet. */
function uniqueName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

function describe(method: string, path: string, operation: JsonObject): string {
  const parts = [operation.summary, operation.description]
    .filter((text): text is string => typeof text === "string" && text.trim() !== "")
    .map((text) => text.trim());
  const unique = [...new Set(parts)];
  return unique.length > 0 ? unique.join("\n\n") : `${method.toUpperCase()} ${path}`;
}

function described(schema: JsonObject, description: Json | undefined): JsonObject {
  return typeof description === "string" && schema.description === undefined
    ? { ...schema, description }
    : schema;
}
