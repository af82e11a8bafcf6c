/**
 * The tiny MCP server behind the benchmark upstreams (`fast_upstream.ts` over Streamable HTTP,
 * `fast_stdio.ts` over stdio): it answers `initialize`, `ping`, `tools/list` and `tools/call`
 * from pre-serialised JSON, so the upstream costs as little as an MCP server can.
 *
 * @module
 */

/** Options of {@linkcode createFastServer}. */
export interface FastServerOptions {
  /** How many tools `tools/list` returns (`tool_0` …). */
  tools: number;
  /** `serverInfo.name`. */
  name: string;
}

/** Answers JSON-RPC message text. */
export interface FastServer {
  /**
   * The answer to one JSON-RPC message (or batch) as JSON text, or `undefined` when nothing is
   * answered (notifications and responses). Throws `SyntaxError` for text that is not JSON.
   */
  answer(text: string): string | undefined;
  /** Whether the message text is an `initialize` request (the HTTP server issues a session then). */
  isInitialize(text: string): boolean;
}

const SUPPORTED = new Set(["2025-11-25", "2025-06-18", "2025-03-26"]);
const CALL_RESULT = '{"content":[{"type":"text","text":"ok"}]}';

/** A tool definition of realistic size (about 300 bytes of JSON). */
export function benchTool(index: number): Record<string, unknown> {
  return {
    name: `tool_${index}`,
    description: `Benchmark tool ${index}: returns a short fixed text. It takes a text and an ` +
      "optional count, as a typical small tool does.",
    inputSchema: {
      type: "object",
      properties: {
        text: { type: "string", description: "Any text; it is ignored." },
        count: { type: "integer", minimum: 0, description: "How many times; ignored." },
      },
      required: ["text"],
    },
  };
}

/** Builds the server. Results are serialised once; only the id is spliced in per answer. */
export function createFastServer(options: FastServerOptions): FastServer {
  const list = JSON.stringify({
    tools: Array.from({ length: options.tools }, (_, i) => benchTool(i)),
  });
  const serverInfo = JSON.stringify({ name: options.name, version: "1.0.0" });
  const initResult = (version: string) =>
    `{"protocolVersion":"${version}","capabilities":{"tools":{"listChanged":false}},` +
    `"serverInfo":${serverInfo}}`;
  const results: Record<string, string> = {
    ping: "{}",
    "tools/list": list,
    "tools/call": CALL_RESULT,
  };

  const one = (message: Record<string, unknown>): string | undefined => {
    const method = message.method;
    if (typeof method !== "string" || !("id" in message)) return undefined;
    const id = JSON.stringify(message.id);
    let result = results[method];
    if (method === "initialize") {
      const params = message.params as { protocolVersion?: unknown } | undefined;
      const asked = params?.protocolVersion;
      result = initResult(
        typeof asked === "string" && SUPPORTED.has(asked) ? asked : "2025-11-25",
      );
    }
    if (result === undefined) {
      return `{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"Method not found"}}`;
    }
    return `{"jsonrpc":"2.0","id":${id},"result":${result}}`;
  };

  return {
    answer(text) {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) {
        const answers = parsed.flatMap((m) => {
          const a = typeof m === "object" && m !== null ? one(m) : undefined;
          return a === undefined ? [] : [a];
        });
        return answers.length === 0 ? undefined : `[${answers.join(",")}]`;
      }
      return typeof parsed === "object" && parsed !== null
        ? one(parsed as Record<string, unknown>)
        : undefined;
    },
    isInitialize(text) {
      return text.includes('"initialize"');
    },
  };
}

/** Reads `--name value` flags (and bare `--flag` as `"true"`) from a command line. */
export function readFlags(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq !== -1) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < args.length && !args[i + 1]!.startsWith("--")) {
      flags.set(arg.slice(2), args[++i]!);
    } else flags.set(arg.slice(2), "true");
  }
  return flags;
}
