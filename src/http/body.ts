/** Reading request bodies with a hard size cap, before anything is allocated for them. */

/** Thrown when a body is larger than allowed. */
export class BodyTooLargeError extends RangeError {
  override name = "BodyTooLargeError";
}

/**
 * Reads a request body of at most `limit` bytes. `Content-Length` is checked first, then the
 * stream is read chunk by chunk: Deno's `req.arrayBuffer()` would allocate whatever a client
 * claims up front.
 */
export async function readCappedBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel();
    throw new BodyTooLargeError(
      `Cannot accept body: ${declared} bytes is over the ${limit} byte limit`,
    );
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) {
      throw new BodyTooLargeError(`Cannot accept body: more than the ${limit} byte limit`);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
