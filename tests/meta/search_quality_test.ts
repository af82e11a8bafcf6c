import assert from "node:assert/strict";
import { ToolIndex } from "../../src/downstream/search.ts";
import type { JsonObject } from "../../src/mcp/jsonrpc.ts";
import { exposedCatalog, HELD_OUT_TASKS, TASKS } from "../../bench/data/catalog.ts";

/** The share of tasks whose tool is among the top `k` search results, and the misses. */
export function topKRate(
  tasks: ReadonlyArray<readonly [string, string]>,
  k: number,
): { rate: number; misses: string[] } {
  const index = new ToolIndex(exposedCatalog() as unknown as JsonObject[]);
  const misses: string[] = [];
  for (const [task, expected] of tasks) {
    const top = index.search(task, k).map((hit) => hit.tool.name);
    if (!top.includes(expected)) misses.push(`${task} → ${top.join(", ")} (wanted ${expected})`);
  }
  return { rate: (tasks.length - misses.length) / tasks.length, misses };
}

function report(rate: number, misses: string[]): string {
  return `top-3 rate ${(rate * 100).toFixed(1)} %; misses:\n${misses.join("\n")}`;
}

Deno.test("gateway_search_tools puts the right tool in the top 3 for at least 90 % of 40 tasks", () => {
  assert.ok(TASKS.length >= 30);
  const { rate, misses } = topKRate(TASKS, 3);
  assert.ok(rate >= 0.9, report(rate, misses));
});

Deno.test("search quality on tasks written without sight of the search code stays at its measured 70 %", () => {
  assert.ok(HELD_OUT_TASKS.length >= 30);
  const { rate, misses } = topKRate(HELD_OUT_TASKS, 3);
  assert.ok(rate >= 0.7, report(rate, misses));
});
