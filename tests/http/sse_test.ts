import assert from "node:assert/strict";
import { encodeSseEvent, SseDecoderStream, type SseEvent } from "../../src/http/sse.ts";

async function decode(chunks: string[]): Promise<SseEvent[]> {
  const stream = ReadableStream.from(chunks).pipeThrough(new SseDecoderStream());
  return await Array.fromAsync(stream);
}

Deno.test("SseDecoderStream handles LF, CRLF and CR line ends", async () => {
  const events = await decode(["data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n"]);
  assert.deepEqual(events.map((e) => e.data), ["a", "b", "c", "d"]);
});

Deno.test("SseDecoderStream joins a CRLF split across chunks into one line end", async () => {
  const events = await decode(["data: one\r", "\n", "\r", "\ndata: two\n", "\n"]);
  assert.deepEqual(events.map((e) => e.data), ["one", "two"]);
});

Deno.test("SseDecoderStream keeps fields split mid-word across chunks", async () => {
  const events = await decode(["ev", "ent: mes", "sage\nid: 4", "2\nda", 'ta: {"a":', "1}\n\n"]);
  assert.deepEqual(events, [{ event: "message", id: "42", data: '{"a":1}' }]);
});

Deno.test("SseDecoderStream joins multi-line data and skips comments", async () => {
  const events = await decode([": keepalive\n\ndata: line1\ndata: line2\n\n"]);
  assert.deepEqual(events, [{ data: "line1\nline2" }]);
});

Deno.test("SseDecoderStream reports priming events (id, empty data) and retry", async () => {
  const events = await decode(["id: p1\nretry: 500\ndata:\n\n"]);
  assert.deepEqual(events, [{ data: "", id: "p1", retry: 500 }]);
});

Deno.test("SseDecoderStream flushes a final event without a blank line and strips a BOM", async () => {
  const events = await decode(["\ufeffdata: tail"]);
  assert.deepEqual(events, [{ data: "tail" }]);
});

Deno.test("encodeSseEvent() splits multi-line data and round-trips through the decoder", async () => {
  const text = encodeSseEvent({ event: "message", id: "7", data: "a\nb" });
  assert.equal(text, "event: message\nid: 7\ndata: a\ndata: b\n\n");
  assert.deepEqual(await decode([text]), [{ event: "message", id: "7", data: "a\nb" }]);
});
