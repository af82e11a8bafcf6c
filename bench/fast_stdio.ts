/**
 * The stdio twin of `fast_upstream.ts`: the same tiny MCP server speaking newline-delimited
 * JSON-RPC on stdin/stdout. Answers to the lines of one read are written together.
 *
 * ```sh
 * deno run bench/fast_stdio.ts [--tools 1] [--delay-ms 0] [--marker <text>]
 * ```
 *
 * `--marker` is ignored; benchmarks pass one to find their own children in `/proc`.
 *
 * @module
 */
import { createFastServer, readFlags } from "./fast_mcp.ts";

const flags = readFlags(Deno.args);
const delayMs = Number(flags.get("delay-ms") ?? "0");
const server = createFastServer({
  tools: Number(flags.get("tools") ?? "1"),
  name: flags.get("name") ?? "fast-stdio",
});

const PARSE_ERROR = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const writer = Deno.stdout.writable.getWriter();
let buffer = "";

for await (const chunk of Deno.stdin.readable) {
  buffer += decoder.decode(chunk, { stream: true });
  let out = "";
  let start = 0;
  for (let newline = buffer.indexOf("\n"); newline !== -1; newline = buffer.indexOf("\n", start)) {
    const line = buffer.slice(start, newline);
    start = newline + 1;
    if (line.trim() === "") continue;
    let answer: string | undefined;
    try {
      answer = server.answer(line);
    } catch {
      answer = PARSE_ERROR;
    }
    if (answer !== undefined) out += answer + "\n";
  }
  buffer = buffer.slice(start);
  if (out === "") continue;
  const bytes = encoder.encode(out);
  if (delayMs > 0) setTimeout(() => void writer.write(bytes).catch(() => {}), delayMs);
  else await writer.write(bytes);
}
