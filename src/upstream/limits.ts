/** Rate and concurrency limits, and the retry budget; all on an injectable clock. */
import type { Clock } from "./clock.ts";

/** Token bucket settings; 0 requests per second turns it off. */
export interface RatePolicy {
  requests_per_second: number;
  burst: number;
}

/** A token bucket: `burst` requests at once, refilled at `requests_per_second`. */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(policy: RatePolicy, clock: Clock) {
    this.#clock = clock;
    this.#rate = policy.requests_per_second;
    this.#capacity = Math.max(1, policy.burst || Math.ceil(policy.requests_per_second));
    this.#tokens = this.#capacity;
    this.#at = clock.now();
  }

  /** Whether the bucket has refilled completely, so a new one would behave the same. */
  get full(): boolean {
    const refilled = this.#tokens + ((this.#clock.now() - this.#at) / 1000) * this.#rate;
    return refilled >= this.#capacity;
  }

  /** Takes a token; returns 0 when granted, or how many milliseconds until one is available. */
  take(): number {
    if (this.#rate <= 0) return 0;
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }
}

/** At most `max` tasks at once, `queue` more waiting in order; beyond that, refused. */
export class ConcurrencyLimit {
  readonly #max: number;
  readonly #queue: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number, queue: number) {
    this.#max = max;
    this.#queue = queue;
  }

  /**
   * Takes a slot: true when one is free now, false when the queue is full too, else a promise
   * that resolves true once a slot is handed over (or rejects when `signal` aborts first). Every
   * slot taken is given back with {@link release}.
   */
  acquire(signal?: AbortSignal): boolean | Promise<boolean> {
    if (this.#max <= 0 || this.#running < this.#max) {
      this.#running++;
      return true;
    }
    if (this.#waiting.length >= this.#queue) return false;
    return new Promise<boolean>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener("abort", cancel);
        this.#running++;
        resolve(true);
      };
      const cancel = () => {
        const index = this.#waiting.indexOf(start);
        if (index !== -1) this.#waiting.splice(index, 1);
        reject(signal!.reason);
      };
      this.#waiting.push(start);
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** Gives a slot back; the oldest waiting task gets it. */
  release(): void {
    this.#running--;
    this.#waiting.shift()?.();
  }

  /** Runs `task` when a slot is free; resolves undefined (without running it) when the queue is full. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T } | undefined> {
    const slot = this.acquire(signal);
    if (slot === false || (slot !== true && !(await slot))) return undefined;
    try {
      return { value: await task() };
    } finally {
      this.release();
    }
  }
}

/**
 * How many retries the gateway may still spend: each request earns `ratio` of a retry (up to 10
 * banked), each retry costs one; so retries can never multiply the load on a failing upstream.
 */
export class RetryBudget {
  #ratio: number;
  #balance = 1;

  constructor(ratio: number) {
    this.#ratio = ratio;
  }

  /** A request was made. */
  earn(): void {
    this.#balance = Math.min(10, this.#balance + this.#ratio);
  }

  /** Spends one retry; false when the budget is used up. */
  spend(): boolean {
    if (this.#balance < 1) return false;
    this.#balance -= 1;
    return true;
  }
}
