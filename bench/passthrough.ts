/**
 * The floor of DESIGN §7: a bare `Deno.serve` + `fetch` pass-through in front of one upstream,
 * with no MCP logic at all. It forwards each POST body and the session headers, and returns the
 * upstream's body; the gateway must cost no more than this.
 *
 * ```sh
 * deno run --allow-net bench/passthrough.ts --upstream http://127.0.0.1:<port>/mcp [--port 0]
 * ```
 *
 * Prints `READY http://127.0.0.1:<port>/mcp` once listening.
 *
 * @module
 */
import { readFlags } from "./fast_mcp.ts";

const flags = readFlags(Deno.args);
const upstream = flags.get("upstream");
if (upstream === undefined) throw new Error("Cannot start: --upstream <url> is required");
const FORWARDED = ["content-type", "accept", "mcp-session-id", "mcp-protocol-version"];

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(flags.get("port") ?? "0"),
  onListen: ({ port }) => {
    Deno.stdout.writeSync(new TextEncoder().encode(`READY http://127.0.0.1:${port}/mcp\n`));
  },
}, async (req) => {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const res = await fetch(upstream, {
    method: req.method,
    headers,
    ...(req.method === "POST" ? { body: await req.text() } : {}),
  });
  const out: Record<string, string> = {};
  for (const name of ["content-type", "mcp-session-id"]) {
    const value = res.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return new Response(await res.text(), { status: res.status, headers: out });
});
