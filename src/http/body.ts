/** Reading request bodies with a hard size cap, before anything is allocated for them. */
import { IncomingRequest } from "./incoming_request.ts";

/** Thrown when a body is larger than allowed. */
export class BodyTooLargeError extends RangeError {
  override name = "BodyTooLargeError";
}

/**
 * Reads a request body of at most `limit` bytes, before `deadline` (a signal, or milliseconds:
 * against clients that send slowly). `Content-Length` is checked first, then the stream is read
 * chunk by chunk: Deno's `req.arrayBuffer()` would allocate whatever a client claims up front.
 * A body the gateway's server already holds whole is taken as it is, with no timer or stream.
 */
export async function readCappedBody(
  req: Request,
  limit: number,
  deadline?: AbortSignal | number,
): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel();
    throw new BodyTooLargeError(overLimit(declared, limit));
  }
  const received = req instanceof IncomingRequest ? req.received() : undefined;
  if (received !== undefined) return received;
  if (!req.body) return new Uint8Array(0);
  const signal = typeof deadline === "number" ? AbortSignal.timeout(deadline) : deadline;
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
  return concatBytes(chunks, size);
}

/** The refusal of a body of `size` bytes over `limit`. */
export function overLimit(size: number | string, limit: number): string {
  return `Cannot accept body: ${size} bytes is over the ${limit} byte limit`;
}

/** The parts as one array (`size` is their total length); a single part is returned as is. */
export function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
