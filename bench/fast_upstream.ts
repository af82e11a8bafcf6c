/**
 * A minimal, fast MCP server over Streamable HTTP for benchmarks, hand-rolled on `Deno.serve`:
 * JSON answers only, no GET stream (405), sessions optional.
 *
 * ```sh
 * deno run --allow-net bench/fast_upstream.ts [--port 0] [--tools 1] [--delay-ms 0] [--sessions true]
 *   [--server deno|mcpstead]
 * ```
 *
 * Prints `READY http://127.0.0.1:<port>/mcp` on stdout once listening. `--delay-ms` delays every
 * POST answer (an upstream with network latency). With sessions on, `initialize` issues an
 * `Mcp-Session-Id` and other requests must carry a known one (404 otherwise), as the SDK does.
 * `--server mcpstead` serves with the gateway's own HTTP/1.1 server instead of `Deno.serve`
 * (`bench/http_server.ts` compares the two).
 *
 * @module
 */
import { createFastServer, readFlags } from "./fast_mcp.ts";
import { serveHttp } from "../src/http/server.ts";

const flags = readFlags(Deno.args);
const port = Number(flags.get("port") ?? "0");
const delayMs = Number(flags.get("delay-ms") ?? "0");
const useSessions = flags.get("sessions") !== "false";
const server = createFastServer({
  tools: Number(flags.get("tools") ?? "1"),
  name: flags.get("name") ?? "fast-upstream",
});

const JSON_HEADERS = { "content-type": "application/json" };
const sessions = new Set<string>();
let nextSession = 0;
const prefix = crypto.randomUUID().slice(0, 8);

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(req: Request): Promise<Response> {
  if (!req.url.endsWith("/mcp")) return new Response("Not Found\n", { status: 404 });
  const session = req.headers.get("mcp-session-id");
  if (req.method === "DELETE") {
    return new Response(null, { status: session !== null && sessions.delete(session) ? 204 : 404 });
  }
  if (req.method !== "POST") {
    return new Response(null, { status: 405, headers: { allow: "POST, DELETE" } });
  }
  const text = await req.text();
  if (delayMs > 0) await wait(delayMs);
  const initialize = server.isInitialize(text);
  if (useSessions && !initialize && (session === null || !sessions.has(session))) {
    return new Response(
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
      { status: session === null ? 400 : 404, headers: JSON_HEADERS },
    );
  }
  let answer: string | undefined;
  try {
    answer = server.answer(text);
  } catch {
    return new Response(
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}',
      { status: 400, headers: JSON_HEADERS },
    );
  }
  if (answer === undefined) return new Response(null, { status: 202 });
  if (useSessions && initialize) {
    const id = `${prefix}-${++nextSession}`;
    sessions.add(id);
    return new Response(answer, { headers: { ...JSON_HEADERS, "mcp-session-id": id } });
  }
  return new Response(answer, { headers: JSON_HEADERS });
}

const ready = (port: number) =>
  Deno.stdout.writeSync(new TextEncoder().encode(`READY http://127.0.0.1:${port}/mcp\n`));
if (flags.get("server") === "mcpstead") {
  const server = serveHttp(Deno.listen({ hostname: "127.0.0.1", port }), handle, {
    limits: {
      headerTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      maxConnections: 1024,
      maxHeaderBytes: 16_384,
    },
  });
  ready(server.addr.port);
} else {
  Deno.serve({ hostname: "127.0.0.1", port, onListen: ({ port }) => ready(port) }, handle);
}
