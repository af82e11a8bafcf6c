import assert from "node:assert/strict";
import { Catalog, type CatalogSource, paginate } from "../../src/upstream/catalog.ts";

const tool = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  inputSchema: { type: "object" },
  ...extra,
});
const src = (server: string, parts: Partial<CatalogSource> = {}): CatalogSource => ({
  server,
  prefixed: true,
  tools: [],
  prompts: [],
  resources: [],
  templates: [],
  ...parts,
});

Deno.test("Catalog prefixes names and descriptions in server order then upstream order", () => {
  const catalog = new Catalog([
    src("b", { tools: [tool("z", { description: "last" }), tool("a")] }),
    src("a", { tools: [tool("x", { description: "ex", annotations: { readOnlyHint: true } })] }),
  ]);
  assert.deepEqual(catalog.tools.map((t) => t.name), ["b__z", "b__a", "a__x"]);
  assert.deepEqual(catalog.tools.map((t) => t.description), ["[b] last", "Tool from b", "[a] ex"]);
  assert.deepEqual(catalog.tools[2]!.annotations, { readOnlyHint: true });
});

Deno.test("Catalog routes by lookup, so a server named 'a_' is never confused with 'a'", () => {
  const catalog = new Catalog([
    src("a", { tools: [tool("_x")] }),
    src("a_", { tools: [tool("x")] }),
  ]);
  assert.deepEqual(catalog.tool("a___x"), { server: "a", name: "_x" });
  assert.equal(catalog.conflicts.length, 1);
  assert.deepEqual(catalog.conflicts[0]!.dropped, { server: "a_", name: "x" });
  assert.equal(catalog.tool("a_x"), undefined);
});

Deno.test("Catalog keeps two servers' same tool names apart", () => {
  const catalog = new Catalog([
    src("one", { tools: [tool("search")] }),
    src("two", { tools: [tool("search")] }),
  ]);
  assert.deepEqual(catalog.tool("one__search"), { server: "one", name: "search" });
  assert.deepEqual(catalog.tool("two__search"), { server: "two", name: "search" });
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

Deno.test("Catalog namespaces prompts like tools and resources as <server>+<uri>, reversibly", () => {
  const catalog = new Catalog([
    src("docs", {
      prompts: [{ name: "summarize", description: "Sum up" }],
      resources: [{ uri: "file:///readme.md", name: "readme" }],
      templates: [{ uriTemplate: "file:///{path}", name: "files" }],
    }),
    src("my server", { resources: [{ uri: "file:///readme.md", name: "other readme" }] }),
  ]);
  assert.deepEqual(catalog.prompts, [{ name: "docs__summarize", description: "[docs] Sum up" }]);
  assert.deepEqual(catalog.prompt("docs__summarize"), { server: "docs", name: "summarize" });
  assert.deepEqual(catalog.resources.map((r) => r.uri), [
    "docs+file:///readme.md",
    "my-server+file:///readme.md",
  ]);
  assert.deepEqual(catalog.templates.map((t) => t.uriTemplate), ["docs+file:///{path}"]);
  assert.deepEqual(catalog.resource("docs+file:///readme.md"), {
    server: "docs",
    name: "file:///readme.md",
  });
  assert.deepEqual(catalog.resource("docs+file:///other.txt"), {
    server: "docs",
    name: "file:///other.txt",
  }, "template instances route by prefix");
  assert.equal(
    catalog.resource("file:///readme.md"),
    undefined,
    "an original URI two servers listed is ambiguous",
  );
  assert.equal(catalog.exposeUri("my server", "file:///x"), "my-server+file:///x");
});

Deno.test("Catalog routes an original URI only one server listed, and unprefixed servers by template", () => {
  const catalog = new Catalog([
    src("a", { resources: [{ uri: "a://only", name: "only" }] }),
    src("b", {
      prefixed: false,
      templates: [{ uriTemplate: "test://template/{id}/data", name: "t" }],
    }),
    src("c", { prefixed: false, templates: [{ uriTemplate: "other://{x}", name: "o" }] }),
  ]);
  assert.deepEqual(catalog.resource("a://only"), { server: "a", name: "a://only" });
  assert.deepEqual(catalog.resource("test://template/123/data"), {
    server: "b",
    name: "test://template/123/data",
  });
  assert.deepEqual(catalog.resource("other://anything"), { server: "c", name: "other://anything" });
  assert.equal(
    catalog.resource("nowhere://x"),
    undefined,
    "two unprefixed servers and no template match",
  );
  assert.deepEqual(catalog.templates.map((t) => t.uriTemplate), [
    "test://template/{id}/data",
    "other://{x}",
  ]);
});

Deno.test("Catalog reports a name taken twice by unprefixed servers instead of shadowing", () => {
  const catalog = new Catalog([
    src("a", { prefixed: false, tools: [tool("search")], prompts: [{ name: "p" }] }),
    src("b", { prefixed: false, tools: [tool("search")], prompts: [{ name: "p" }] }),
  ]);
  assert.deepEqual(catalog.tool("search"), { server: "a", name: "search" });
  assert.deepEqual(catalog.conflicts.map((c) => `${c.kind}:${c.exposed}:${c.dropped.server}`), [
    "tool:search:b",
    "prompt:p:b",
  ]);
});

Deno.test("Catalog routes an upstream URI that only one server's templates produce, prefixed or not", () => {
  const catalog = new Catalog([
    src("a", { templates: [{ uriTemplate: "demo://a/{id}", name: "a" }] }),
    src("b", { templates: [{ uriTemplate: "demo://{kind}/{id}", name: "b" }] }),
    src("c", { templates: [{ uriTemplate: "only-c://{id}", name: "c" }] }),
    src("v", { prefixed: false, templates: [{ uriTemplate: "verbatim://{id}", name: "v" }] }),
  ]);
  assert.deepEqual(catalog.resource("only-c://7"), { server: "c", name: "only-c://7" });
  assert.equal(catalog.exposeUri("c", "only-c://7"), "c+only-c://7");
  assert.equal(catalog.resource("demo://a/7"), undefined, "a's and b's templates both produce it");
  assert.deepEqual(catalog.resource("demo://x/7"), { server: "b", name: "demo://x/7" });
  assert.deepEqual(catalog.resource("verbatim://1"), { server: "v", name: "verbatim://1" });
  assert.deepEqual(catalog.resource("other://1"), { server: "v", name: "other://1" });
  assert.deepEqual(catalog.itemsOf("v"), {
    tools: [],
    prompts: [],
    resources: [],
    templates: ["verbatim://{id}"],
  });
});
