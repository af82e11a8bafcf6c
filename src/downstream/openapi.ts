/**
 * The OpenAPI 3.1 description of the REST facade (`GET /openapi.json`, `mcpstead openapi`): one
 * `POST /api/tools/<name>` operation per tool the caller may use, its request body the tool's
 * `inputSchema`, its 200 answer a tool result whose `structuredContent` follows the tool's
 * `outputSchema` where it has one, and the security scheme of the gateway's auth mode.
 */
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";

/** What the document describes. */
export interface OpenApiSource {
  /** The tools, as the catalog exposes them. */
  tools: readonly JsonObject[];
  /** The server that serves each tool (an operation's tag). */
  serverOf(name: string): string | undefined;
  version: string;
  /** The auth scheme, when downstream auth is on. */
  scheme: "Bearer" | "Basic" | undefined;
}

const ERROR_RESPONSES: Record<string, string> = {
  "400": "The body is not a JSON object, or the upstream rejected the arguments",
  "404": "No such tool, or the caller may not use it",
  "429": "The caller's rate limit; retry after `Retry-After` seconds",
  "502": "The upstream failed",
  "503": "The upstream is busy or its circuit is open",
  "504": "The upstream did not answer in time",
};

/** Builds the document. */
export function openApiDocument(source: OpenApiSource): JsonObject {
  const paths: JsonObject = {};
  for (const tool of source.tools) {
    const name = tool.name as string;
    paths[`/api/tools/${encodeURIComponent(name)}`] = {
      post: operation(tool, source.serverOf(name)),
    };
  }
  const components: JsonObject = {
    schemas: {
      ToolResult: toolResult(undefined),
      Error: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: {
              code: { type: "integer" },
              message: { type: "string" },
              data: {},
              did_you_mean: { type: "array", items: { type: "string" } },
            },
            required: ["code", "message"],
          },
        },
        required: ["error"],
      },
    },
    responses: Object.fromEntries(
      Object.entries(ERROR_RESPONSES).map(([status, description]) => [
        `Error${status}`,
        { description, content: { "application/json": { schema: ref("schemas/Error") } } },
      ]),
    ),
  };
  const document: JsonObject = {
    openapi: "3.1.0",
    info: {
      title: "mcpstead tools",
      version: source.version,
      description: "Every MCP tool behind this gateway, callable over plain HTTP.",
    },
    paths,
    components,
  };
  if (source.scheme !== undefined) {
    components.securitySchemes = {
      gateway: { type: "http", scheme: source.scheme === "Basic" ? "basic" : "bearer" },
    };
    document.security = [{ gateway: [] }];
  }
  return document;
}

function operation(tool: JsonObject, server: string | undefined): JsonObject {
  const name = tool.name as string;
  const description = typeof tool.description === "string" ? tool.description : undefined;
  const title = typeof tool.title === "string" ? tool.title : undefined;
  const input = isJsonObject(tool.inputSchema) ? tool.inputSchema : { type: "object" };
  const result = isJsonObject(tool.outputSchema) ? toolResult(tool.outputSchema) : undefined;
  const responses: JsonObject = {
    "200": {
      description: "The tool's result",
      content: { "application/json": { schema: result ?? ref("schemas/ToolResult") } },
    },
    "422": {
      description: "The tool ran and reported an error (`isError: true`)",
      content: { "application/json": { schema: ref("schemas/ToolResult") } },
    },
  };
  for (const status of Object.keys(ERROR_RESPONSES)) {
    responses[status] = ref(`responses/Error${status}`);
  }
  return {
    operationId: name,
    summary: title ?? description?.split(/(?<=\.)\s/)[0] ?? name,
    ...(description === undefined ? {} : { description }),
    ...(server === undefined ? {} : { tags: [server] }),
    requestBody: {
      required: Array.isArray(input.required) && input.required.length > 0,
      content: { "application/json": { schema: input } },
    },
    responses,
  };
}

/** The schema of a tool result (CallToolResult), with `structuredContent` typed when known. */
function toolResult(structured: JsonObject | undefined): JsonObject {
  return {
    type: "object",
    properties: {
      content: { type: "array", items: { type: "object" } },
      structuredContent: structured ?? { type: "object" },
      isError: { type: "boolean" },
    },
    required: ["content"],
  };
}

function ref(path: string): JsonObject {
  return { $ref: `#/components/${path}` };
}
