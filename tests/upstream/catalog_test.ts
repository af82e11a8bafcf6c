import assert from "node:assert/strict";
import { paginate, ToolCatalog } from "../../src/upstream/catalog.ts";

const tool = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  inputSchema: { type: "object" },
  ...extra,
});

Deno.test("ToolCatalog prefixes names and descriptions in server order then upstream order", () => {
  const catalog = new ToolCatalog([
    { server: "b", prefixed: true, tools: [tool("z", { description: "last" }), tool("a")] },
    {
      server: "a",
      prefixed: true,
      tools: [tool("x", { description: "ex", annotations: { readOnlyHint: true } })],
    },
  ]);
  assert.deepEqual(catalog.tools.map((t) => t.name), ["b__z", "b__a", "a__x"]);
  assert.deepEqual(catalog.tools.map((t) => t.description), ["[b] last", "Tool from b", "[a] ex"]);
  assert.deepEqual(catalog.tools[2]!.annotations, { readOnlyHint: true });
});

Deno.test("ToolCatalog routes by lookup, so a server named 'a_' is never confused with 'a'", () => {
  const catalog = new ToolCatalog([
    { server: "a", prefixed: true, tools: [tool("_x")] },
    { server: "a_", prefixed: true, tools: [tool("x")] },
  ]);
  assert.deepEqual(catalog.route("a___x"), { server: "a", name: "_x" });
  assert.equal(catalog.conflicts.length, 1);
  assert.deepEqual(catalog.conflicts[0]!.dropped, { server: "a_", name: "x" });
  assert.equal(catalog.route("a_x"), undefined);
});

Deno.test("ToolCatalog keeps two servers' same tool names apart", () => {
  const catalog = new ToolCatalog([
    { server: "one", prefixed: true, tools: [tool("search")] },
    { server: "two", prefixed: true, tools: [tool("search")] },
  ]);
  assert.deepEqual(catalog.route("one__search"), { server: "one", name: "search" });
  assert.deepEqual(catalog.route("two__search"), { server: "two", name: "search" });
});

Deno.test("paginate() walks a list with opaque cursors and rejects a forged one", () => {
  const items = Array.from({ length: 5 }, (_, i) => i);
  const first = paginate(items, undefined, 2);
  assert.deepEqual(first.items, [0, 1]);
  const second = paginate(items, first.nextCursor, 2);
  assert.deepEqual(second.items, [2, 3]);
  const third = paginate(items, second.nextCursor, 2);
  assert.deepEqual(third.items, [4]);
  assert.equal(third.nextCursor, undefined);
  assert.throws(() => paginate(items, "not-a-cursor", 2), /Invalid cursor/);
  assert.throws(() => paginate(items, 5, 2), /Invalid cursor/);
});
