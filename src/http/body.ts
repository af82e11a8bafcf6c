/** Reading request bodies with a hard size cap, before anything is allocated for them. */

/** Thrown when a body is larger than allowed. */
export class BodyTooLargeError extends RangeError {
  override name = "BodyTooLargeError";
}

/**
 * Reads a request body of at most `limit` bytes, before `signal` (a deadline against clients that
 * send slowly). `Content-Length` is checked first, then the stream is read chunk by chunk: Deno's
 * `req.arrayBuffer()` would allocate whatever a client claims up front.
 */
export async function readCappedBody(
  req: Request,
  limit: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
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
  const reader = req.body.getReader();
  const onAbort = () => reader.cancel(signal!.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (done) break;
      size += chunk.byteLength;
      if (size > limit) {
        throw new BodyTooLargeError(`Cannot accept body: more than the ${limit} byte limit`);
      }
      chunks.push(chunk);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
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
