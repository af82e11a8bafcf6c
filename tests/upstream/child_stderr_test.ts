import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { ChildStderr, stripControls } from "../../src/upstream/child_stderr.ts";
import { StdioTransport } from "../../src/upstream/stdio.ts";

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

Deno.test("StdioTransport logs a stderr line longer than 64 KiB shortened and goes on reading", async () => {
  const lines: Array<{ msg: string; line?: string }> = [];
  const log = createLogger({
    level: "info",
    format: "json",
    write: (l) => lines.push(JSON.parse(l)),
  });
  const transport = new StdioTransport({
    server: "long",
    command: "sh",
    args: ["-c", "head -c 200000 /dev/zero | tr '\\0' x >&2; echo >&2; echo after >&2; sleep 0.2"],
    env: {},
    inheritEnv: false,
    withheldEnv: [],
    log,
  });
  const closed = Promise.withResolvers<Error | undefined>();
  await transport.open(() => {}, closed.resolve);
  await closed.promise;
  await transport.close();
  const logged = lines.filter((l) => l.msg === "upstream stderr").map((l) => l.line!);
  assert.equal(logged.length, 2);
  assert.equal(logged[0], `${"x".repeat(200)}… (over 65536 characters)`);
  assert.equal(logged[1], "after");
});

Deno.test("StdioTransport ends a child whose stdout line grows past 64 MiB, naming the limit, not the text", async () => {
  const transport = new StdioTransport({
    server: "flood",
    command: "sh",
    args: ["-c", "head -c 70000000 /dev/zero | tr '\\0' x; sleep 5"],
    env: {},
    inheritEnv: false,
    withheldEnv: [],
    log: createLogger({ level: "error", format: "json", write: () => {} }),
  });
  const closed = Promise.withResolvers<Error | undefined>();
  await transport.open(() => {}, closed.resolve);
  const error = await closed.promise;
  await transport.close();
  assert.equal(
    error?.message,
    "Upstream 'flood' wrote a line of more than 67108864 characters on stdout",
  );
});
