import assert from "node:assert/strict";
import { FieldHeaders } from "../../src/http/field_headers.ts";
import { ByteReader, HttpWireError, writeLatin1 } from "../../src/http/http1.ts";
import { ChunkedBody } from "../../src/http/http1_body.ts";

/** A byte source that hands out `data` in the given piece sizes. */
function source(data: Uint8Array, pieces: number[]) {
  let offset = 0;
  let i = 0;
  return {
    read(into: Uint8Array): Promise<number | null> {
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(pieces[i++ % pieces.length]!, into.length, data.length - offset);
      into.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

Deno.test("FieldHeaders answers like Headers: case-insensitive, duplicates combined, sorted iteration", () => {
  const headers = new FieldHeaders(["x-b", "accept", "x-b"], ["2", "a/b", "3"]);
  assert.equal(headers.get("X-B"), "2, 3");
  assert.equal(headers.get("nope"), null);
  assert.equal(headers.has("Accept"), true);
  assert.deepEqual([...headers], [["accept", "a/b"], ["x-b", "2, 3"]]);
  assert.deepEqual([...headers], [...new Headers([["x-b", "2"], ["accept", "a/b"], ["x-b", "3"]])]);
  headers.set("accept", "c/d");
  assert.equal(headers.get("accept"), "c/d");
  assert.deepEqual([...headers.keys()], ["accept", "x-b"]);
});

Deno.test("ChunkedBody decodes the same body whatever the read boundaries", async () => {
  const wire = "4;a=b\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\nNEXT";
  const bytes = new TextEncoder().encode(wire);
  for (let size = 1; size <= bytes.length; size++) {
    const reader = new ByteReader(source(bytes, [size]), 16, 4096);
    const body = new ChunkedBody(reader, { maxLine: 64, maxTrailer: 64, strict: true });
    let text = "";
    for (let part = await body.next(); part !== null; part = await body.next()) {
      text += new TextDecoder().decode(part);
    }
    assert.equal(text, "Wikipedia in\r\n\r\nchunks.", `reads of ${size} bytes`);
    assert.equal(body.done, true);
    const rest = new TextDecoder().decode(reader.buf.subarray(reader.start, reader.end));
    assert.ok("NEXT".startsWith(rest), "the next message's bytes stay unread");
  }
});

Deno.test("ChunkedBody refuses a bad size line, data longer than its size, and a cut-off body", async () => {
  const read = async (wire: string) => {
    const reader = new ByteReader(source(new TextEncoder().encode(wire), [7]), 64, 4096);
    const body = new ChunkedBody(reader, { maxLine: 64, maxTrailer: 64, strict: true });
    while ((await body.next()) !== null);
  };
  await assert.rejects(
    read("zz\r\nab\r\n0\r\n\r\n"),
    (e) => e instanceof HttpWireError && /size line/.test(e.message),
  );
  await assert.rejects(read("2\r\nabc\r\n0\r\n\r\n"), /longer than its size/);
  await assert.rejects(read("5\r\nab"), /closed inside a chunk/);
  await assert.rejects(read("-1\r\n"), /size line/);
});

Deno.test("writeLatin1() writes one byte per character, latin1 ones too, and nothing past them", () => {
  const out = new Uint8Array(8).fill(0xee);
  assert.equal(writeLatin1("ok", out, 1), 3);
  assert.deepEqual([...out.subarray(0, 4)], [0xee, 0x6f, 0x6b, 0xee]);
  assert.equal(writeLatin1("é\xff", out, 4), 6);
  assert.deepEqual([...out.subarray(4)], [0xe9, 0xff, 0xee, 0xee]);
});
