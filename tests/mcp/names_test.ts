import assert from "node:assert/strict";
import { exposedName, isClientSafeName } from "../../src/mcp/names.ts";

Deno.test("exposedName() joins server and tool with __ when both are client-safe", () => {
  assert.equal(exposedName("github", "search_issues", true), "github__search_issues");
  assert.equal(exposedName("github", "search_issues", false), "search_issues");
});

Deno.test("exposedName() rewrites unsafe characters with a stable hash suffix", () => {
  const name = exposedName("my server", "get.file", true);
  assert.match(name, /^my_server__get_file_[0-9a-f]{8}$/);
  assert.equal(exposedName("my server", "get.file", true), name);
  assert.notEqual(exposedName("my server", "get_file", true), name);
  assert.ok(isClientSafeName(name));
});

Deno.test("exposedName() shortens names over 64 characters deterministically", () => {
  const long = "x".repeat(80);
  const a = exposedName("srv", long, true);
  const b = exposedName("srv", long + "y", true);
  assert.equal(a.length, 64);
  assert.equal(b.length, 64);
  assert.notEqual(a, b);
  assert.ok(isClientSafeName(a));
  assert.equal(exposedName("srv", long, true), a);
});

Deno.test("exposedName() keeps a 64-character name as is", () => {
  const name = "a".repeat(59);
  assert.equal(exposedName("srv", name, true), `srv__${name}`);
});
