/**
 * One tool call as one HTTP request, and its response as the tool result: path parameters
 * substituted and URL-encoded, query and header parameters serialized by their style
 * (OpenAPI 3.1 §4.8.12.4), the JSON body sent as is; a 2xx body is the result's text, any
 * other status an `isError` result with the status and the body.
 */
import { isJsonObject, type Json, type JsonObject } from "../mcp/jsonrpc.ts";
import { redirectNote } from "./transport.ts";
import { BODY_PROPERTY, type OpenApiOperation, type ParameterBinding } from "./openapi_spec.ts";

/** The parts of an HTTP request a call makes, or why its arguments cannot make one. */
export type BuiltRequest =
  | { url: string; headers: Record<string, string>; body: string | undefined }
  | { error: string };

const DELIMITERS: Readonly<Record<string, string>> = { spaceDelimited: " ", pipeDelimited: "|" };

/** Builds the request of a call to `operation` with `args`, against the API at `baseUrl`. */
export function buildRequest(
  baseUrl: string,
  operation: OpenApiOperation,
  args: JsonObject,
): BuiltRequest {
  const isSet = (property: string) => args[property] !== undefined && args[property] !== null;
  const missing = operation.params.filter((p) => p.required && !isSet(p.property))
    .map((p) => p.property);
  if (operation.body?.required && !isSet(BODY_PROPERTY)) missing.push(BODY_PROPERTY);
  if (missing.length > 0) {
    const names = missing.map((name) => `'${name}'`).join(", ");
    return { error: `missing required argument${missing.length > 1 ? "s" : ""} ${names}` };
  }
  let path = operation.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const param of operation.params) {
    const value = args[param.property];
    if (value === undefined || value === null) continue;
    if (param.in === "path") {
      path = path.replaceAll(`{${param.name}}`, encodeURIComponent(simple(value, param)));
    } else if (param.in === "header") {
      const text = simple(value, param);
      if (/[\r\n\0]/.test(text)) {
        return { error: `argument '${param.property}' contains a line break or NUL character` };
      }
      headers[param.name.toLowerCase()] = text;
    } else {
      for (const [name, text] of queryPairs(value, param)) query.append(name, text);
    }
  }
  const escape = leavesBase(baseUrl, path);
  if (escape !== undefined) return { error: escape };
  const search = query.size > 0 ? `?${query}` : "";
  const body = operation.body && isSet(BODY_PROPERTY)
    ? JSON.stringify(args[BODY_PROPERTY])
    : undefined;
  if (body !== undefined) headers["content-type"] = operation.body!.mediaType;
  return { url: baseUrl.replace(/\/+$/, "") + path + search, headers, body };
}

/**
 * Why a call's path would reach beyond the API's base URL, if it would. The URL parser resolves
 * `.` and `..` segments (also written `%2e`), so `/pets/{id}` with id `..` would otherwise call
 * a sibling of the base path with the configured credentials.
 */
function leavesBase(baseUrl: string, path: string): string | undefined {
  if (path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) {
    return `the path '${path}' has a '.' or '..' segment, which is not allowed`;
  }
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const url = URL.parse(baseUrl.replace(/\/+$/, "") + path);
  if (
    url === null || url.origin !== base.origin ||
    (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))
  ) {
    return `the path '${path}' leads outside the API's base path '${basePath || "/"}'`;
  }
  return undefined;
}

/** The tool result of an HTTP response whose body is `text`. */
export function toolResult(
  operation: OpenApiOperation,
  response: Response,
  text: string,
): JsonObject {
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  if (!response.ok) {
    return errorResult(`${status}${redirectNote(response)}${text ? `: ${text}` : ""}`);
  }
  const content = [{ type: "text", text: text === "" ? status : text }];
  if (operation.tool.outputSchema === undefined) return { content };
  const data = parseJson(text);
  if (!isJsonObject(data)) {
    return errorResult(
      `${status}, but the body is not the JSON object the operation's response schema ` +
        `describes${text ? `: ${text}` : ""}`,
    );
  }
  return { content, structuredContent: data };
}

/** A tool result that reports a failure to the model (MCP 2025-11-25, tools: error handling). */
export function errorResult(text: string): JsonObject {
  return { content: [{ type: "text", text }], isError: true };
}

/** `simple` style (path and header parameters): lists and mappings comma-separated. */
function simple(value: Json, param: ParameterBinding): string {
  if (param.json) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map(scalar).join(",");
  if (isJsonObject(value)) {
    return Object.entries(value)
      .map(([key, item]) => `${key}${param.explode ? "=" : ","}${scalar(item)}`)
      .join(",");
  }
  return scalar(value);
}

/** The query pairs of one parameter, by its style. */
function queryPairs(value: Json, param: ParameterBinding): [string, string][] {
  const { name, style, explode } = param;
  if (param.json) return [[name, JSON.stringify(value)]];
  if (Array.isArray(value)) {
    if (style === "form" && explode) return value.map((item) => [name, scalar(item)]);
    return [[name, value.map(scalar).join(DELIMITERS[style] ?? ",")]];
  }
  if (isJsonObject(value)) {
    const entries = Object.entries(value);
    if (style === "deepObject") {
      return entries.map(([key, item]) => [`${name}[${key}]`, scalar(item)]);
    }
    if (explode) return entries.map(([key, item]) => [key, scalar(item)]);
    return [[name, entries.flatMap(([key, item]) => [key, scalar(item)]).join(",")]];
  }
  return [[name, scalar(value)]];
}

function scalar(value: Json): string {
  if (typeof value === "string") return value;
  if (value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
