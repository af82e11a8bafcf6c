import assert from "node:assert/strict";
import { keepSource, resultMember, sourceOf, sourceWith } from "../../src/mcp/result_source.ts";

Deno.test("resultMember() cuts out the one result object, wherever it is and however it is spaced", () => {
  assert.equal(
    resultMember('{"jsonrpc":"2.0","id":1,"result":{"a":[1,{"b":"}"}]}}'),
    '{"a":[1,{"b":"}"}]}',
  );
  assert.equal(resultMember(' {\n "result" : { } ,"id":"x\\"y","jsonrpc":"2.0"}\n'), "{ }");
  assert.equal(
    resultMember('{"id":1e3,"ok":true,"n":null,"result":{"s":"\\\\"},"x":-0.5}'),
    '{"s":"\\\\"}',
  );
});

Deno.test("resultMember() refuses what it cannot cut exactly as JSON.parse reads it", () => {
  for (
    const text of [
      '{"id":1,"result":{"a":1},"result":{"a":2}}', // two result members
      '{"id":1,"resul\\u0074":{"a":1}}', // an escaped key
      '{"id":1,"result":{"a":1},"x\\"":2}', // an escaped key after it
      '{"id":1,"result":[1]}', // not an object
      '{"id":1,"result":"text"}',
      '{"id":1,"error":{"code":1}}', // no result
      "[]",
      "{}",
    ]
  ) assert.equal(resultMember(text), undefined, text);
});

Deno.test("sourceOf() gives the source only of the very object parsed from it", () => {
  const text = '{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890}}';
  const result = JSON.parse(text).result;
  keepSource(result, text);
  assert.equal(sourceOf(result), '{"n":12345678901234567890}');
  assert.equal(sourceOf({ ...result }), undefined, "a changed copy has no source");
});

Deno.test("sourceWith() adds members to a source, also to an empty object", () => {
  const full = JSON.parse('{"result":{"a":1}}').result;
  keepSource(full, '{"result":{"a":1}}');
  assert.equal(sourceWith(full, '"b":2'), '{"a":1,"b":2}');
  const empty = JSON.parse('{"result":{ }}').result;
  keepSource(empty, '{"result":{ }}');
  assert.equal(sourceWith(empty, '"b":2'), '{ "b":2}');
  assert.equal(sourceWith({}, '"b":2'), undefined);
});
