/**
 * A bounded in-memory {@linkcode EventStore} for one Streamable HTTP session of the conformance
 * fixture, so a client can resume an SSE stream with `Last-Event-ID` (MCP 2025-11-25,
 * transports § "Resumability and Redelivery"). It also tells the fixture when a client
 * resumed, so `test_reconnection` can answer on the new stream.
 *
 * Written here rather than taken from the SDK's `examples/shared/inMemoryEventStore.js`: that
 * one derives the stream id by splitting the event id on `_`, which breaks for the standalone
 * GET stream (whose id is `_GET_stream`), and it never forgets an event.
 *
 * @module
 */

import type { EventStore, JSONRPCMessage } from "../_support/sdk.ts";

/** How many events a store keeps before it forgets the oldest. */
export const DEFAULT_MAX_EVENTS = 1_000;

interface StoredEvent {
  streamId: string;
  message: JSONRPCMessage;
}

/** An {@linkcode EventStore} that keeps the last `maxEvents` events of one session. */
export class MemoryEventStore implements EventStore {
  readonly #events = new Map<string, StoredEvent>();
  readonly #maxEvents: number;
  readonly #resumeWaiters = new Set<() => void>();
  #next = 0;

  /** Keeps at most `maxEvents` events (the oldest go first). */
  constructor(maxEvents: number = DEFAULT_MAX_EVENTS) {
    this.#maxEvents = maxEvents;
  }

  /** Stores `message` (a priming event stores `{}`) and returns its new event id. */
  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const eventId = String(++this.#next);
    this.#events.set(eventId, { streamId, message });
    if (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next();
      if (!oldest.done) this.#events.delete(oldest.value);
    }
    return Promise.resolve(eventId);
  }

  /** The stream an event belongs to; undefined for an unknown or forgotten id (→ HTTP 400). */
  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return Promise.resolve(this.#events.get(eventId)?.streamId);
  }

  /** Sends the events of `lastEventId`'s stream stored after it, skipping priming events. */
  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.#events.get(lastEventId);
    if (last === undefined) throw new Error(`Cannot replay: unknown event id "${lastEventId}"`);
    let after = false;
    for (const [eventId, event] of [...this.#events]) {
      if (eventId === lastEventId) after = true;
      else if (after && event.streamId === last.streamId && !isPriming(event.message)) {
        await send(eventId, event.message);
      }
    }
    // The transport registers the resumed stream right after this promise settles; a timer
    // runs after that, so whoever waits can then write to the stream.
    const waiters = [...this.#resumeWaiters];
    this.#resumeWaiters.clear();
    setTimeout(() => waiters.forEach((wake) => wake()), 0);
    return last.streamId;
  }

  /**
   * Resolves `true` once a client resumes a stream of this session (a GET with
   * `Last-Event-ID`), or `false` after `timeoutMs` or when `signal` aborts.
   */
  waitForResume(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const wake = () => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onAbort = () => finish(false);
    const finish = (resumed: boolean) => {
      clearTimeout(timer);
      this.#resumeWaiters.delete(wake);
      signal?.removeEventListener("abort", onAbort);
      resolve(resumed);
    };
    if (signal?.aborted) {
      finish(false);
      return promise;
    }
    this.#resumeWaiters.add(wake);
    signal?.addEventListener("abort", onAbort, { once: true });
    return promise;
  }
}

/** A priming event stores an empty object; replaying it would hand the client a non-message. */
function isPriming(message: JSONRPCMessage): boolean {
  return Object.keys(message).length === 0;
}
