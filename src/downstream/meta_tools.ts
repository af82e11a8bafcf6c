/**
 * Meta-tool mode (`mcp.tools_mode: meta | both`): a few gateway tools that let a model find and
 * call any of hundreds of upstream tools without every schema in its context. Search is ranked
 * (BM25, search.ts) and returns each hit's full input schema, so the model need not guess.
 */
import type { Dispatcher } from "../core/dispatcher.ts";
import type { CallContext } from "../core/context.ts";
import { listPage } from "../core/lists.ts";
import { globMatcher } from "../mcp/glob.ts";
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { closestNames, ToolIndex } from "./search.ts";

/** What the meta tools read and call. */
export interface MetaSources {
  /** The tools this client may use, as listed in direct mode. */
  tools(): readonly JsonObject[];
  /** The index over every tool of the current catalog. */
  index(): ToolIndex;
  /** The server of an exposed tool name. */
  serverOf(name: string): string | undefined;
  /** The configured servers and their state. */
  servers(): Array<{ name: string; connected: boolean; transport: string | null; tools: number }>;
  /** Calls a tool as `tools/call` would (scopes, metrics, routing). */
  call(name: string, args: JsonObject): Promise<JsonObject>;
  /** Whether this client may use an exposed tool name. */
  allowed(name: string): boolean;
}

const PAGE = 50;

/** The gateway tools, as `tools/list` shows them. */
export const META_TOOLS: readonly JsonObject[] = [
  {
    name: "gateway_search_tools",
    description:
      "Search every tool behind this gateway by what you want to do. Returns the best matches, each " +
      "with its name, description and full input schema; call one with gateway_invoke.",
    inputSchema: {
      type: "object",
      properties: {
        query: {
          type: "string",
          description: "What you want to do, in plain words (e.g. 'open a pull request')",
        },
        limit: {
          type: "integer",
          minimum: 1,
          maximum: 50,
          description: "How many matches to return (default 5)",
        },
        server: { type: "string", description: "Only tools of this server" },
      },
      required: ["query"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "gateway_list_servers",
    description:
      "List the servers behind this gateway, whether they are connected, and how many tools each has.",
    inputSchema: { type: "object", properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true },
  },
  {
    name: "gateway_list_tools",
    description:
      `List the tools of one server (names and descriptions, ${PAGE} per page; pass nextCursor for more).`,
    inputSchema: {
      type: "object",
      properties: { server: { type: "string" }, cursor: { type: "string" } },
      required: ["server"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "gateway_invoke",
    description:
      "Call any tool behind this gateway by its full name (as gateway_search_tools returns it) with its " +
      "arguments. Returns exactly what the tool returns.",
    inputSchema: {
      type: "object",
      properties: {
        name: { type: "string", description: "The tool's full name, e.g. github__create_issue" },
        arguments: { type: "object", description: "The tool's arguments, per its input schema" },
      },
      required: ["name"],
      additionalProperties: false,
    },
  },
];

const NAMES = new Set(META_TOOLS.map((tool) => tool.name as string));

/** Whether a name is one of the gateway tools. */
export function isMetaTool(name: string): boolean {
  return NAMES.has(name);
}

/** How meta-tool mode is set up (`mcp.tools_mode`, `mcp.pinned`, `mcp.page_size`). */
export interface MetaModeOptions {
  toolsMode: "direct" | "meta" | "both";
  pinned: readonly string[];
  pageSize: number;
}

/**
 * Meta-tool mode as a layer over the core: `tools/list` shows the gateway tools (with the pinned
 * tools in `meta` mode, every tool in `both`), and a call of a gateway tool runs it; everything
 * else, and every upstream tool it calls, goes through the core unchanged.
 */
export function withMetaTools(core: Dispatcher, options: MetaModeOptions): Dispatcher {
  if (options.toolsMode === "direct") return core;
  const pinned = globMatcher(options.pinned);
  const indexes = new WeakMap<readonly JsonObject[], ToolIndex>();
  const sources = (context: CallContext): MetaSources => ({
    tools: () => core.tools(context.identity),
    index: () => {
      const all = core.tools(undefined);
      let index = indexes.get(all);
      if (!index) indexes.set(all, index = new ToolIndex(all));
      return index;
    },
    serverOf: (name) => core.serverOf(name),
    servers: () => core.servers(context.identity),
    call: (name, args) => core.handle("tools/call", { name, arguments: args }, context),
    allowed: (name) => core.mayCall(name, context.identity),
  });
  return {
    ...core,
    handle(method, params, context) {
      try {
        if (method === "tools/list") {
          const tools = core.tools(context.identity);
          const shown = options.toolsMode === "both"
            ? tools
            : tools.filter((tool) => pinned(tool.name as string));
          return Promise.resolve(
            listPage("tools", [...META_TOOLS, ...shown], params, options.pageSize),
          );
        }
        const name = params?.name;
        if (method === "tools/call" && typeof name === "string" && isMetaTool(name)) {
          const args = isJsonObject(params?.arguments) ? params.arguments : {};
          return callMetaTool(name, args, sources(context));
        }
      } catch (error) {
        return Promise.reject(error);
      }
      return core.handle(method, params, context);
    },
  };
}

/** Runs a gateway tool. A wrong argument is a tool error (`isError`), as MCP asks of tools. */
export async function callMetaTool(
  name: string,
  args: JsonObject,
  sources: MetaSources,
): Promise<JsonObject> {
  switch (name) {
    case "gateway_search_tools": {
      if (typeof args.query !== "string" || args.query.trim() === "") {
        return failure("query must be a non-empty string");
      }
      const limit = typeof args.limit === "number"
        ? Math.min(50, Math.max(1, Math.floor(args.limit)))
        : 5;
      const server = typeof args.server === "string" ? args.server : undefined;
      const hits = sources.index().search(args.query, limit, (tool) => {
        const exposed = tool.name as string;
        return sources.allowed(exposed) &&
          (server === undefined || sources.serverOf(exposed) === server);
      });
      return success({
        results: hits.map(({ tool, score }) => ({
          name: tool.name ?? null,
          server: sources.serverOf(tool.name as string) ?? null,
          description: tool.description ?? null,
          inputSchema: tool.inputSchema ?? { type: "object" },
          score: Math.round(score * 1000) / 1000,
        })),
      });
    }
    case "gateway_list_servers":
      return success({ servers: sources.servers() });
    case "gateway_list_tools": {
      if (typeof args.server !== "string") {
        return failure("server must be a server name (see gateway_list_servers)");
      }
      const all = sources.tools().filter((tool) =>
        sources.serverOf(tool.name as string) === args.server
      );
      const offset = typeof args.cursor === "string" && /^\d+$/.test(args.cursor)
        ? Number(args.cursor)
        : 0;
      const page = all.slice(offset, offset + PAGE).map((tool) => ({
        name: tool.name ?? null,
        description: tool.description ?? null,
      }));
      return success(
        offset + PAGE < all.length
          ? { tools: page, nextCursor: String(offset + PAGE) }
          : { tools: page },
      );
    }
    case "gateway_invoke": {
      const target = args.name;
      if (typeof target !== "string") return failure("name must be a tool's full name");
      if (!sources.allowed(target) || sources.serverOf(target) === undefined) {
        const names = sources.tools().map((tool) => tool.name as string);
        const suggestions = closestNames(target, names);
        return failure(`Unknown tool '${target}'. Did you mean: ${suggestions.join(", ")}?`, {
          suggestions,
        });
      }
      return await sources.call(target, isJsonObject(args.arguments) ? args.arguments : {});
    }
  }
  return failure(`Unknown gateway tool '${name}'`);
}

function success(value: JsonObject): JsonObject {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

function failure(message: string, extra?: JsonObject): JsonObject {
  return {
    isError: true,
    content: [{ type: "text", text: message }],
    ...(extra ? { structuredContent: extra } : {}),
  };
}
