import assert from "node:assert/strict";
import { LineWriter } from "../../src/upstream/line_writer.ts";

/** A stream that records each write and holds it until `release()`. */
function recordingSink(fail?: Error) {
  const writes: string[] = [];
  const waiting: Array<() => void> = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      writes.push(decoder.decode(chunk));
      if (fail) return Promise.reject(fail);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
  });
  return { stream, writes, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

const failure = (error: unknown) => new Error(`Cannot write: ${(error as Error).message}`);

Deno.test("LineWriter writes a line at once and joins the lines that arrive meanwhile into one write", async () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink.stream.getWriter(), failure);
  const first = lines.write("a\n");
  const rest = [lines.write("b\n"), lines.write("c\n"), lines.write("d\n")];
  await Promise.resolve();
  assert.deepEqual(sink.writes, ["a\n"]);
  sink.release();
  await first;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sink.writes, ["a\n", "b\nc\nd\n"]);
  sink.release();
  await Promise.all(rest);
  const closed = lines.close();
  await closed;
  await assert.rejects(lines.write("e\n"), /Cannot write: the pipe is closed/);
});

Deno.test("LineWriter rejects every line of a failed write with the mapped error", async () => {
  const sink = recordingSink(new Error("broken pipe"));
  const lines = new LineWriter(sink.stream.getWriter(), failure);
  const results = await Promise.allSettled([lines.write("a\n"), lines.write("b\n")]);
  assert.deepEqual(
    results.map((r) => r.status === "rejected" && (r.reason as Error).message),
    ["Cannot write: broken pipe", "Cannot write: broken pipe"],
  );
});

Deno.test("LineWriter.close() waits for the lines queued before it", async () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink.stream.getWriter(), failure);
  void lines.write("a\n");
  void lines.write("b\n");
  const closed = lines.close();
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    sink.release();
  }
  await closed;
  assert.deepEqual(sink.writes, ["a\n", "b\n"]);
});
