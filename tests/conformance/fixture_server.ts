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
  server.registerResource("static-text", "test://static-text", {
    title: "Static text resource",
    description: "A fixed text/plain resource.",
    mimeType: "text/plain",
  }, (uri) => ({
    contents: [{
      uri: uri.href,
      mimeType: "text/plain",
      text: "This is the content of the static text resource.",
    }],
  }));
  server.registerResource("static-binary", "test://static-binary", {
    title: "Static binary resource",
    description: "A 1x1 PNG image.",
    mimeType: "image/png",
  }, (uri) => ({ contents: [{ uri: uri.href, mimeType: "image/png", blob: PNG_BASE64 }] }));
  server.registerResource(
    "template-data",
    new ResourceTemplate("test://template/{id}/data", {
      list: undefined,
      complete: { id: (value) => ["123", "456", "789"].filter((id) => id.startsWith(value)) },
    }),
    {
      title: "Template resource",
      description: "Echoes the {id} of its URI.",
      mimeType: "application/json",
    },
    (uri, { id }) => ({
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
      }],
    }),
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
  }, () => ({
    messages: [{
      role: "user",
      content: { type: "text", text: "This is a simple prompt for testing." },
    }],
  }));
  server.registerPrompt("test_prompt_with_arguments", {
    description: "A prompt that interpolates arg1 and arg2.",
    argsSchema: {
      arg1: completable(
        z.string().describe("First test argument"),
        (value) => ["test1", "test2", "test3"].filter((v) => v.startsWith(value)),
      ),
      arg2: z.string().describe("Second test argument"),
    },
  }, ({ arg1, arg2 }) => ({
    messages: [{
      role: "user",
      content: { type: "text", text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
    }],
  }));
  server.registerPrompt("test_prompt_with_embedded_resource", {
    description: "A prompt that embeds the resource named by resourceUri.",
    argsSchema: { resourceUri: z.string().describe("URI of the resource to embed") },
  }, ({ resourceUri }) => ({
    messages: [
      {
        role: "user",
        content: {
          type: "resource",
          resource: {
            uri: resourceUri,
            mimeType: "text/plain",
            text: "Embedded resource content for testing.",
          },
        },
      },
      {
        role: "user",
        content: { type: "text", text: "Please process the embedded resource above." },
      },
    ],
  }));
  server.registerPrompt("test_prompt_with_image", {
    description: "A prompt with an image.",
  }, () => ({
    messages: [
      { role: "user", content: { type: "image", data: PNG_BASE64, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ],
  }));
}
