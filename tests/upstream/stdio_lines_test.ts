import assert from "node:assert/strict";
import { LineSplitter, readLines } from "../../src/upstream/stdio_lines.ts";

function collect(maxLine = 1000, stopAt?: string) {
  const seen: string[] = [];
  const splitter = new LineSplitter(maxLine, {
    line: (text) => (seen.push(text), text !== stopAt),
    tooLong: (start) => (seen.push(`too long: ${start}`), true),
  });
  return { seen, splitter };
}

Deno.test("LineSplitter hands over lines without CR LF, joins a line split across pieces and skips blank ones", () => {
  const { seen, splitter } = collect();
  splitter.push('{"a":1}\r\n{"b"');
  splitter.push(":2");
  splitter.push('}\n  \n\n{"c":3}');
  assert.deepEqual(seen, ['{"a":1}', '{"b":2}']);
  splitter.end();
  assert.deepEqual(seen, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

Deno.test("LineSplitter cuts a line that grows past the limit and drops its rest", () => {
  const { seen, splitter } = collect(10);
  splitter.push("0123456789");
  splitter.push("abcdef");
  splitter.push("ghij\nnext\n");
  assert.deepEqual(seen, ["too long: 0123456789abcdef", "next"]);
});

Deno.test("LineSplitter stops when a handler says so", () => {
  const { seen, splitter } = collect(1000, "stop");
  assert.equal(splitter.push("one\nstop\nafter\n"), false);
  assert.deepEqual(seen, ["one", "stop"]);
});

Deno.test("readLines() reads a process's output, multi-byte characters split across reads included", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "printf 'h\\303'; sleep 0.05; printf '\\251llo\\nworld'"],
    stdout: "piped",
  }).spawn();
  const seen: string[] = [];
  await readLines(child.stdout, 100, {
    line: (text) => (seen.push(text), true),
    tooLong: () => false,
  });
  await child.status;
  assert.deepEqual(seen, ["héllo", "world"]);
});
