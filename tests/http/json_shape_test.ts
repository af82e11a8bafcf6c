import assert from "node:assert/strict";
import { jsonShapeProblem } from "../../src/http/json_shape.ts";

const shape = (text: string, maxJsonDepth = 3, maxJsonValues = 10) =>
  jsonShapeProblem(new TextEncoder().encode(text), { maxJsonDepth, maxJsonValues });

Deno.test("jsonShapeProblem() counts nesting and values outside strings only", () => {
  assert.equal(shape('{"a":[[1]]}'), undefined);
  assert.equal(shape('{"a":[[[1]]]}'), "JSON nested deeper than 3 levels");
  assert.equal(shape('{"a":"[[[[[[,,,,,,,,,,,,"}'), undefined, "brackets and commas in a string");
  assert.equal(shape('{"a":"\\\\"}'), undefined, "an escaped backslash ends before the quote");
  assert.equal(shape('{"a":"\\"[[[[","b":1}'), undefined, "an escaped quote does not end it");
  assert.equal(shape('["\\\\\\"[[[["]'), undefined);
  assert.equal(shape("[1,2,3,4,5,6,7,8,9]"), undefined);
  assert.equal(
    shape("[1,2,3,4,5,6,7,8,9,10,11]"),
    "JSON holds more than 10 values (mcp.limits.max_json_values)",
  );
  assert.equal(shape('{"unterminated'), undefined, "malformed JSON is left to the parser");
});

Deno.test("jsonShapeProblem() stops at the first bracket past the limit of a 4 MB body", () => {
  const deep = new TextEncoder().encode("[".repeat(2_000_000) + "]".repeat(2_000_000));
  const started = performance.now();
  assert.equal(
    jsonShapeProblem(deep, { maxJsonDepth: 64, maxJsonValues: 100_000 }),
    "JSON nested deeper than 64 levels",
  );
  assert.ok(performance.now() - started < 50);
});
