import type { Clock } from "../../src/upstream/clock.ts";

interface Timer {
  at: number;
  resolve(): void;
}

/** A clock that only moves when a test calls {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #timers: Timer[] = [];
  /** The value `random()` returns (jitter). */
  randomValue = 0.5;

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.randomValue;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.#now + ms,
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Number of sleeps waiting. */
  get sleepers(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due sleeps in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.resolve();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets pending promise continuations (and zero-delay timers) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
