/**
 * The rate limits of downstream clients (`mcp.rate_limit`): one token bucket per identity, per
 * anonymous session, or per address (REST without auth). The map is bounded: a bucket idle long
 * enough to be full again is the same as a new one and is dropped, and past `maxKeys` the
 * oldest bucket goes (a flood of new addresses cannot grow it without end).
 */
import type { Clock } from "../upstream/clock.ts";
import { type RatePolicy, TokenBucket } from "../upstream/limits.ts";

/** How many buckets are kept at most. */
export const MAX_CLIENT_BUCKETS = 10_000;
const SWEEP_INTERVAL_MS = 1000;

/** Takes a token of a bucket kept elsewhere (the cluster store): 0, or the wait in ms. */
export type SharedBuckets = (key: string, policy: RatePolicy) => Promise<number>;

/** Token buckets by client key. */
export class ClientLimits {
  readonly #clock: Clock;
  readonly #maxKeys: number;
  #policy: RatePolicy;
  readonly #buckets = new Map<string, TokenBucket>();
  #sweptAt = -Infinity;
  #shared: SharedBuckets | undefined;

  constructor(policy: RatePolicy, clock: Clock, maxKeys = MAX_CLIENT_BUCKETS) {
    this.#policy = policy;
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  /** Number of buckets held. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes the buckets from the cluster store from now on, so that a client's limit holds across
   * replicas; while the store cannot answer, this replica's own buckets count instead.
   */
  share(shared: SharedBuckets): void {
    this.#shared = shared;
  }

  /**
   * Takes a token of `key`'s bucket: 0 when granted, else the wait in ms; in a cluster, from the
   * bucket in the store.
   */
  limit(key: string): number | Promise<number> {
    if (this.#policy.requests_per_second <= 0) return 0;
    if (this.#shared) return this.#shared(key, this.#policy).catch(() => this.take(key));
    return this.take(key);
  }

  /** Takes a token of this replica's own bucket of `key`: 0 when granted, else the wait in ms. */
  take(key: string): number {
    if (this.#policy.requests_per_second <= 0) return 0;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#makeRoom();
      bucket = new TokenBucket(this.#policy, this.#clock);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Drops the bucket of a key that is gone (an ended session). */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  /** Starts over with a new policy (after a reload). */
  reset(policy: RatePolicy): void {
    this.#policy = policy;
    this.#buckets.clear();
  }

  /** Drops full (idle) buckets at most once a second; past the cap, the oldest one. */
  #makeRoom(): void {
    const now = this.#clock.now();
    if (now - this.#sweptAt >= SWEEP_INTERVAL_MS) {
      this.#sweptAt = now;
      for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }
}

/** The address part of a peer `host:port` (IPv6 `[::1]:port` or `::1:port`), for keying limits. */
export function addressOf(peer: string): string {
  const match = /^\[?(.*?)\]?:\d+$/.exec(peer);
  return match ? match[1]! : peer;
}
