import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { ChildStderr, stripControls } from "../../src/upstream/child_stderr.ts";

Deno.test("stripControls() removes colours, cursor moves and titles, and keeps what a terminal shows last", () => {
  assert.equal(
    stripControls("\u001b[0m\u001b[32mDownload\u001b[0m https://x/p"),
    "Download https://x/p",
  );
  assert.equal(stripControls("\u001b]0;title\u0007ready\u001b[2K\u001b[1G"), "ready");
  assert.equal(stripControls(" 10%\r 55%\r100% done\r"), "100% done");
  assert.equal(stripControls("a\u0000b\u0008c\u009bd\te"), "abcd\te");
});

Deno.test("ChildStderr collapses runs of progress lines and repeats into one line and a count", () => {
  const lines: Array<{ level: string; msg: string; line?: string; lines?: number }> = [];
  const log = createLogger({
    level: "debug",
    format: "json",
    write: (l) => lines.push(JSON.parse(l)),
  });
  const stderr = new ChildStderr(log);
  for (let i = 0; i < 5; i++) stderr.line(`\u001b[32mDownload\u001b[0m https://r.example/p-${i}`);
  stderr.line("Initialize p-4");
  stderr.line("listening on stdio");
  for (let i = 0; i < 3; i++) stderr.line("warning: deprecated flag");
  stderr.line("");
  stderr.flush();
  const info = lines.filter((l) => l.level === "info").map((l) => l.line ?? `(${l.lines} held)`);
  assert.deepEqual(info, [
    "Download https://r.example/p-0",
    "(5 held)",
    "listening on stdio",
    "warning: deprecated flag",
    "(2 held)",
  ]);
  assert.equal(lines.filter((l) => l.level === "debug").length, 7, "the held lines are at debug");
  assert.ok(lines.every((l) => !JSON.stringify(l).includes("\\u001b")));
});
