/**
 * How a supervisor waits: for the next refresh, for a reason to wake early (a list change, a
 * failed call, a lost connection), and through the backoff before a reconnect, which a call that
 * wants the upstream may shorten.
 */
import type { Clock } from "./clock.ts";

/** Why a supervisor wakes before its refresh is due. */
export type Wake = "refresh" | "check" | "closed";

/** The reasons to wake that came in, and the sleep they end. */
export class Waker {
  readonly #clock: Clock;
  readonly #pending = new Set<Wake>();
  #wakeup: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Notes a reason and ends the current sleep. */
  wake(reason: Wake): void {
    this.#pending.add(reason);
    this.#wakeup?.();
  }

  /** Ends the current sleep with no reason (the sleeper looks at its state again). */
  nudge(): void {
    this.#wakeup?.();
  }

  /** Forgets the reasons noted so far. */
  clear(): void {
    this.#pending.clear();
  }

  /** The reasons noted so far, which are forgotten. */
  take(): Set<Wake> {
    const wakes = new Set(this.#pending);
    this.#pending.clear();
    return wakes;
  }

  /** Sleeps `ms` unless a reason is already noted. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending.size > 0) return;
    await this.sleep(ms, signal);
  }

  /** Sleeps `ms`, or until a wake or nudge, or until `signal` aborts. */
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#wakeup = resolve;
    const stop = new AbortController();
    try {
      await Promise.race([
        promise,
        this.#clock.sleep(ms, AbortSignal.any([signal, stop.signal])).catch(() => {}),
      ]);
    } finally {
      stop.abort();
      this.#wakeup = undefined;
    }
  }
}

/** The wait before the next reconnect attempt, which a call may bring forward. */
export class BackoffWait {
  readonly #clock: Clock;
  readonly #waker: Waker;
  #from = 0;
  #until = 0;
  /** The length of the current wait (0 when not waiting). */
  ms = 0;

  constructor(clock: Clock, waker: Waker) {
    this.#clock = clock;
    this.#waker = waker;
  }

  /** Milliseconds until the next attempt (at least 100, so a client is never told "now"). */
  get leftMs(): number {
    return Math.max(this.#until - this.#clock.now(), 100);
  }

  /** Waits `wait` ms, or less when {@link demand} brings the end forward; returns the seconds waited. */
  async run(wait: number, signal: AbortSignal): Promise<number> {
    this.#from = this.#clock.now();
    this.#until = this.#from + wait;
    this.ms = wait;
    for (let left = wait; left > 0 && !signal.aborted; left = this.#until - this.#clock.now()) {
      await this.#waker.sleep(left, signal);
    }
    this.ms = 0;
    return (this.#clock.now() - this.#from) / 1000;
  }

  /** Ends the wait at most `baseMs` after it started (a no-op when it ends sooner anyway). */
  demand(baseMs: number): void {
    const soon = this.#from + baseMs;
    if (soon >= this.#until) return;
    this.#until = soon;
    this.ms = soon - this.#from;
    this.#waker.nudge();
  }
}
