/**
 * The MCP side of the conformance fixture: one SDK `McpServer` per session with the tools,
 * resources and prompts the official suite (`@modelcontextprotocol/conformance@0.1.16`, server
 * mode) calls by name. The contract is `research/spec-conformance.md` §3.5–3.6; the transports
 * live in `tests/fixtures/conformance_server.ts`.
 *
 * Tools (`fixture_tools.ts`) are served by our own `tools/list` and `tools/call` handlers on the
 * low-level server rather than `McpServer.registerTool`: `registerTool` rewrites every input
 * schema to draft-07, and `json_schema_2020_12_tool` must reach `tools/list` verbatim
 * (`$schema`, `$defs`, `additionalProperties`). Resources, prompts and completion use
 * `McpServer` as usual.
 *
 * @module
 */

import { z } from "zod";
import {
  CallToolRequestSchema,
  completable,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  McpServer,
  ResourceTemplate,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "../_support/sdk.ts";
import { conformanceTools, DYNAMIC_TOOL, PNG_BASE64, type ToolContext } from "./fixture_tools.ts";

export { CONFORMANCE_TOOLS, DYNAMIC_TOOL } from "./fixture_tools.ts";

/** URI of the resource whose content changes every `watchIntervalMs` while subscribed. */
export const WATCHED_URI = "test://watched-resource";

/** What one session's server may use from its transport and from the fixture. */
export interface ConformanceServerOptions {
  /** Whether `test_dynamic_tool` has appeared yet (read at each `tools/list`). */
  dynamicToolVisible(): boolean;
  /** Period of `test://watched-resource` updates while subscribed (default 3000 ms). */
  watchIntervalMs?: number;
  /** See {@linkcode ToolContext.waitForResume}. */
  waitForResume?: ToolContext["waitForResume"];
}

/** One session's server and its own timers. */
export interface ConformanceSession {
  /** The session's server; `server.server` is the low-level SDK `Server`. */
  readonly server: McpServer;
  /** Tells this session's client that the tool list changed (fire and forget). */
  toolsChanged(): void;
  /** Closes the server (and its transport) and stops its timers. */
  close(): Promise<void>;
}

/** The fixed resources of both fixtures (SDK v1 and v2): name, URI, metadata, content. */
export const STATIC_RESOURCES = [
  {
    name: "static-text",
    uri: "test://static-text",
    metadata: {
      title: "Static text resource",
      description: "A fixed text/plain resource.",
      mimeType: "text/plain",
    },
    content: (uri: string) => ({
      uri,
      mimeType: "text/plain",
      text: "This is the content of the static text resource.",
    }),
  },
  {
    name: "static-binary",
    uri: "test://static-binary",
    metadata: {
      title: "Static binary resource",
      description: "A 1x1 PNG image.",
      mimeType: "image/png",
    },
    content: (uri: string) => ({ uri, mimeType: "image/png", blob: PNG_BASE64 }),
  },
];

/** The resource template of both fixtures; its content echoes `{id}`. */
export const TEMPLATE_RESOURCE = {
  name: "template-data",
  uriTemplate: "test://template/{id}/data",
  metadata: {
    title: "Template resource",
    description: "Echoes the {id} of its URI.",
    mimeType: "application/json",
  },
  content: (uri: string, id: unknown) => ({
    uri,
    mimeType: "application/json",
    text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
  }),
};

/** Completions of `arg1` of `test_prompt_with_arguments`. */
export function completeArg1(value: string): string[] {
  return ["test1", "test2", "test3"].filter((v) => v.startsWith(value));
}

/** Completions of `{id}` of `test://template/{id}/data`. */
export function completeTemplateId(value: string): string[] {
  return ["123", "456", "789"].filter((id) => id.startsWith(value));
}

const userText = (text: string) => ({
  role: "user" as const,
  content: { type: "text" as const, text },
});

/** The messages of each prompt, shared by the SDK v1 and v2 fixtures. */
export const PROMPT_MESSAGES = {
  simple: () => [userText("This is a simple prompt for testing.")],
  withArguments: (arg1: string, arg2: string) => [
    userText(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`),
  ],
  withEmbeddedResource: (uri: string) => [
    {
      role: "user" as const,
      content: {
        type: "resource" as const,
        resource: { uri, mimeType: "text/plain", text: "Embedded resource content for testing." },
      },
    },
    userText("Please process the embedded resource above."),
  ],
  withImage: () => [
    {
      role: "user" as const,
      content: { type: "image" as const, data: PNG_BASE64, mimeType: "image/png" },
    },
    userText("Please analyze the image above."),
  ],
};

/** Log levels, least severe first (RFC 5424 order, as MCP logging uses them). */
const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Builds the server of one session. */
export function buildConformanceServer(options: ConformanceServerOptions): ConformanceSession {
  const server = new McpServer(
    { name: "mcpstead-conformance-fixture", version: "1.0.0" },
    {
      capabilities: {
        logging: {},
        completions: {},
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
      },
    },
  );
  // Our own logging/setLevel (replacing the SDK's), so tools can skip messages below the level.
  let minLevel = 0;
  server.server.setRequestHandler(SetLevelRequestSchema, ({ params: { level } }) => {
    minLevel = LEVELS.indexOf(level);
    return {};
  });
  const tools = conformanceTools({
    logs: (level) => LEVELS.indexOf(level) >= minLevel,
    ...(options.waitForResume === undefined ? {} : { waitForResume: options.waitForResume }),
  });
  const toolsNow = () =>
    [...tools].filter(([name]) => name !== DYNAMIC_TOOL || options.dynamicToolVisible());

  server.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: toolsNow().map(([name, spec]) => ({
      name,
      description: spec.description,
      inputSchema: spec.inputSchema,
    })),
  }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const spec = toolsNow().find(([known]) => known === name)?.[1];
    // Unlike McpServer (an isError result), an unknown tool is a JSON-RPC error, as the spec says.
    if (spec === undefined) throw new McpError(ErrorCode.InvalidParams, `Tool "${name}" not found`);
    return await spec.run(args, extra);
  });

  const watch = registerResources(server, options.watchIntervalMs ?? 3_000);
  registerPrompts(server);
  server.server.onclose = () => watch.stop();

  return {
    server,
    toolsChanged: () => {
      if (server.isConnected()) server.sendToolListChanged();
    },
    close: async () => {
      watch.stop();
      await server.close();
    },
  };
}

function registerResources(server: McpServer, watchIntervalMs: number): { stop(): void } {
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

  // The watched resource changes on a timer that runs only while this session subscribes.
  let version = 1;
  let timer: ReturnType<typeof setInterval> | undefined;
  const subscriptions = new Set<string>();
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  server.registerResource("watched-resource", WATCHED_URI, {
    title: "Watched resource",
    description: "Changes every few seconds; subscribe to get notifications/resources/updated.",
    mimeType: "text/plain",
  }, (uri) => ({
    contents: [{
      uri: uri.href,
      mimeType: "text/plain",
      text: `Watched resource, version ${version}`,
    }],
  }));
  server.server.setRequestHandler(SubscribeRequestSchema, ({ params: { uri } }) => {
    subscriptions.add(uri);
    if (uri === WATCHED_URI && timer === undefined) {
      timer = setInterval(() => {
        version++;
        server.server.sendResourceUpdated({ uri: WATCHED_URI }).catch(() => stop());
      }, watchIntervalMs);
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params: { uri } }) => {
    subscriptions.delete(uri);
    if (!subscriptions.has(WATCHED_URI)) stop();
    return {};
  });
  return { stop };
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt("test_simple_prompt", {
    description: "A prompt without arguments.",
  }, () => ({ messages: PROMPT_MESSAGES.simple() }));
  server.registerPrompt("test_prompt_with_arguments", {
    description: "A prompt that interpolates arg1 and arg2.",
    argsSchema: {
      arg1: completable(z.string().describe("First test argument"), completeArg1),
      arg2: z.string().describe("Second test argument"),
    },
  }, ({ arg1, arg2 }) => ({ messages: PROMPT_MESSAGES.withArguments(arg1, arg2) }));
  server.registerPrompt("test_prompt_with_embedded_resource", {
    description: "A prompt that embeds the resource named by resourceUri.",
    argsSchema: { resourceUri: z.string().describe("URI of the resource to embed") },
  }, ({ resourceUri }) => ({ messages: PROMPT_MESSAGES.withEmbeddedResource(resourceUri) }));
  server.registerPrompt("test_prompt_with_image", {
    description: "A prompt with an image.",
  }, () => ({ messages: PROMPT_MESSAGES.withImage() }));
}
