/**
 * The connections to the cluster store (Redis or Valkey, through ioredis): one for commands and
 * one for pub/sub, as Redis requires. The client is imported only when `cluster` is configured,
 * so a single process never loads it. No call waits on a store that is down or stalled: commands
 * fail at once while disconnected (no offline queue), a connection that stops answering is
 * dropped after {@link STALL_MS} (one timer per connection, not per command), and both
 * connections reconnect by themselves with jittered backoff; channels are subscribed again.
 */
import type { Redis, RedisOptions } from "ioredis";
import { describeError } from "../log.ts";

/** How long a connection with commands outstanding may go without a reply before it is dropped. */
export const STALL_MS = 2000;
/** How long connecting may take. */
const CONNECT_TIMEOUT_MS = 2000;
/** The longest wait between reconnect attempts. */
const MAX_BACKOFF_MS = 2000;

/** The store could not be reached, or did not answer in time. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** What the link reports, for health and metrics. */
export interface LinkEvents {
  /** Both connections are up (again): subscriptions are renewed. */
  up(): void;
  /** A connection was lost or could not be made (once until the next `up`). */
  down(reason: string): void;
}

/** The two connections to the store. */
export interface RedisLink {
  /** Commands: pipelined automatically, failing fast while disconnected. */
  readonly cmd: Redis;
  /** Pub/sub only. */
  readonly sub: Redis;
  /** Whether both connections are ready. */
  readonly connected: boolean;
  /** Why the store is not connected, if it is not (no secret in it). */
  readonly lastError: string | undefined;
  /** Closes both connections; nothing reconnects afterwards. */
  close(): void;
}

/**
 * Opens the link to `url` (`redis://` or `rediss://`). Resolves once the client is loaded, even
 * when the store is down: the connections keep trying in the background and `events` tells when
 * they are up.
 */
export async function openRedisLink(url: string, events: LinkEvents): Promise<RedisLink> {
  const { Redis: RedisClient } = await import("ioredis");
  const options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: STALL_MS,
    retryStrategy: (attempt: number) =>
      Math.min(50 * 2 ** attempt, MAX_BACKOFF_MS) * (0.5 + Math.random()),
  } satisfies RedisOptions;
  const cmd = new RedisClient(url, options);
  const { socketTimeout: _, ...subOptions } = options;
  const sub = new RedisClient(url, subOptions);
  let lastError: string | undefined = "connecting";
  let closed = false;
  /** Whether `down` was told of this outage (once per outage: reconnect attempts repeat it). */
  let toldDown = false;
  const ready = () => cmd.status === "ready" && sub.status === "ready";
  const onReady = () => {
    if (!ready()) return;
    lastError = undefined;
    toldDown = false;
    events.up();
  };
  const onError = (error: unknown) => {
    if (closed) return;
    lastError = storeErrorText(error);
    if (toldDown) return;
    toldDown = true;
    events.down(lastError);
  };
  for (const connection of [cmd, sub]) {
    connection.on("ready", onReady);
    connection.on("error", onError);
    connection.on("close", () => {
      if (!closed && lastError === undefined) onError(new Error("the connection closed"));
    });
  }
  // A first attempt that fails leaves the client retrying on its own (retryStrategy).
  await Promise.allSettled([cmd.connect(), sub.connect()]);
  return {
    cmd,
    sub,
    get connected() {
      return ready();
    },
    get lastError() {
      return ready() ? undefined : lastError ?? "connecting";
    },
    close() {
      closed = true;
      cmd.disconnect();
      sub.disconnect();
    },
  };
}

/** The text of a store error, short and without the URL (which may hold a password). */
function storeErrorText(error: unknown): string {
  const text = describeError(error);
  if (/enableOfflineQueue|Connection is closed|max retries per request/i.test(text)) {
    return "not connected";
  }
  if (/Socket timeout/i.test(text)) return `no answer within ${STALL_MS} ms`;
  return text.replace(/rediss?:\/\/\S+/g, "redis://***");
}

/** An error for a failed store call, naming what could not be done. */
export function unavailable(action: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `Cannot ${action}: the cluster store (Redis) is unreachable (${storeErrorText(error)})`,
  );
}
