/**
 * The MCP side of the SDK v2 (`@modelcontextprotocol/server@2.4.0`) conformance fixture: one
 * `McpServer` per 2026 request or 2025 session, with every tool, resource and prompt that both
 * `@modelcontextprotocol/conformance@0.1.16` (the 2025 suite) and the 2026-07-28 requirement set
 * of `0.2.0-alpha.12` call by name. The transports live in
 * `tests/fixtures/conformance_server_sdk2.ts`; the SDK v1 fixture (`fixture_server.ts`) stays
 * for the legacy HTTP+SSE runs, which SDK v2 cannot serve.
 *
 * @module
 */

import { z } from "zod";
import {
  completable,
  McpServer,
  ResourceTemplate,
  type ServerOptions,
} from "@modelcontextprotocol/server";
import {
  completeArg1,
  completeTemplateId,
  PROMPT_MESSAGES,
  STATIC_RESOURCES,
  TEMPLATE_RESOURCE,
  WATCHED_URI,
} from "./fixture_server.ts";
import { registerSuiteTools, type Sdk2ToolHooks } from "./sdk2_fixture_tools.ts";
import { type MrtrToolHooks, registerMrtrTools, REQUEST_STATE } from "./sdk2_mrtr_tools.ts";

/** What one server needs from the serving side. */
export type Sdk2ConformanceHooks = Sdk2ToolHooks & MrtrToolHooks;

/** Cache hints of the 2026 cacheable results (the `caching` scenario wants them present). */
export const CONFORMANCE_CACHE_HINTS = {
  "tools/list": { ttlMs: 5_000, cacheScope: "public" },
  "prompts/list": { ttlMs: 5_000, cacheScope: "public" },
  "resources/list": { ttlMs: 5_000, cacheScope: "public" },
  "resources/templates/list": { ttlMs: 5_000, cacheScope: "public" },
  "resources/read": { ttlMs: 1_000, cacheScope: "private" },
  "server/discover": { ttlMs: 5_000, cacheScope: "public" },
} as const satisfies ServerOptions["cacheHints"];

/** Builds one server of the fixture. */
export function buildSdk2ConformanceServer(hooks: Sdk2ConformanceHooks): McpServer {
  const server = new McpServer(
    { name: "mcpstead-conformance-fixture-sdk2", version: "2.4.0" },
    {
      capabilities: {
        logging: {},
        completions: {},
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
      },
      cacheHints: CONFORMANCE_CACHE_HINTS,
      requestState: REQUEST_STATE,
    },
  );
  registerSuiteTools(server, hooks);
  registerMrtrTools(server, hooks);
  registerResources(server);
  registerPrompts(server);
  return server;
}

function registerResources(server: McpServer): void {
  for (const resource of STATIC_RESOURCES) {
    server.registerResource(resource.name, resource.uri, resource.metadata, (uri) => ({
      contents: [resource.content(uri.href)],
    }));
  }
  server.registerResource(
    TEMPLATE_RESOURCE.name,
    new ResourceTemplate(TEMPLATE_RESOURCE.uriTemplate, {
      list: undefined,
      complete: { id: completeTemplateId },
    }),
    TEMPLATE_RESOURCE.metadata,
    (uri, { id }) => ({ contents: [TEMPLATE_RESOURCE.content(uri.href, id)] }),
  );
  server.registerResource("watched-resource", WATCHED_URI, {
    title: "Watched resource",
    description: "A resource clients may subscribe to (2025 sessions).",
    mimeType: "text/plain",
  }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "Watched resource" }],
  }));
  // 2025 sessions subscribe; the SDK answers both methods 404 -32601 on 2026 requests.
  server.server.setRequestHandler("resources/subscribe", () => ({}));
  server.server.setRequestHandler("resources/unsubscribe", () => ({}));
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt("test_simple_prompt", {
    description: "A prompt without arguments.",
  }, () => ({ messages: PROMPT_MESSAGES.simple() }));
  server.registerPrompt("test_prompt_with_arguments", {
    description: "A prompt that interpolates arg1 and arg2.",
    argsSchema: z.object({
      arg1: completable(z.string().describe("First test argument"), completeArg1),
      arg2: z.string().describe("Second test argument"),
    }),
  }, ({ arg1, arg2 }) => ({ messages: PROMPT_MESSAGES.withArguments(arg1, arg2) }));
  server.registerPrompt("test_prompt_with_embedded_resource", {
    description: "A prompt that embeds the resource named by resourceUri.",
    argsSchema: z.object({ resourceUri: z.string().describe("URI of the resource to embed") }),
  }, ({ resourceUri }) => ({ messages: PROMPT_MESSAGES.withEmbeddedResource(resourceUri) }));
  server.registerPrompt("test_prompt_with_image", {
    description: "A prompt with an image.",
  }, () => ({ messages: PROMPT_MESSAGES.withImage() }));
}
