/**
 * Counts the tokens a client spends on `tools/list` in `direct` and `meta` mode, for catalogs of
 * 10, 100 and 1,000 tools, with the `cl100k_base` tokenizer. Each catalog is served by real
 * upstreams on loopback (the realistic catalog of `data/catalog.ts`, repeated under numbered
 * server names past its 77 tools) through a real gateway, and read with the MCP SDK client. In
 * meta mode the cost of one `gateway_search_tools` call (5 hits with full schemas) is shown too.
 * Every page of a paginated listing counts.
 *
 * Run: `deno task bench:tokens`
 */
import { getEncoding } from "js-tiktoken";
import { SERVERS } from "./data/catalog.ts";
import { type RawFixture, startRawFixture } from "../tests/fixtures/raw_server.ts";
import { startGateway, upstream } from "../tests/_support/gateway.ts";
import { connectClient } from "../tests/_support/client.ts";
import { waitFor } from "../tests/_support/wait.ts";

const SIZES = [10, 100, 1_000];
const encoding = getEncoding("cl100k_base");
const tokens = (value: unknown) => encoding.encode(JSON.stringify(value)).length;

/** `size` tools grouped by server, cycling through the catalog under numbered server names. */
function catalogOf(size: number): Map<string, Array<{ name: string }>> {
  const servers = new Map<string, Array<{ name: string }>>();
  for (let copy = 1, left = size; left > 0; copy++) {
    for (const [server, tools] of Object.entries(SERVERS)) {
      const name = copy === 1 ? server : `${server}${copy}`;
      const taken = tools.slice(0, left);
      if (taken.length === 0) break;
      servers.set(name, taken);
      left -= taken.length;
    }
  }
  return servers;
}

async function measure(size: number): Promise<[number, number, number]> {
  const fixtures: RawFixture[] = [];
  const entries: string[] = [];
  for (const [name, tools] of catalogOf(size)) {
    const fixture = await startRawFixture("json", { tools });
    fixtures.push(fixture);
    entries.push(upstream(name, fixture.url));
  }
  try {
    const counts: number[] = [];
    for (const mode of ["direct", "meta"]) {
      await using gateway = await startGateway(
        `mcp:\n  tools_mode: ${mode}\nservers:\n${entries.join("")}`,
      );
      await waitFor(() => gateway.gateway.catalog().size === size, "every upstream listed", {
        timeoutMs: 30_000,
      });
      await using client = await connectClient(gateway.url);
      let total = 0;
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        total += tokens(page);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      counts.push(total);
      if (mode === "meta") {
        const found = await client.callTool({
          name: "gateway_search_tools",
          arguments: { query: "open a pull request", limit: 5 },
        });
        counts.push(tokens(found));
      }
    }
    return counts as [number, number, number];
  } finally {
    for (const fixture of fixtures) await fixture.close();
  }
}

const rows = [
  "| tools | direct `tools/list` | meta `tools/list` | meta / direct | one search (5 hits) |",
];
rows.push("|---:|---:|---:|---:|---:|");
for (const size of SIZES) {
  const [direct, meta, search] = await measure(size);
  rows.push(
    `| ${size} | ${direct} | ${meta} | ${(meta / direct * 100).toFixed(1)} % | ${search} |`,
  );
}
const report = `Tokens (cl100k_base) of the JSON results a client reads:\n\n${rows.join("\n")}\n`;
await Deno.stdout.write(new TextEncoder().encode(report));
