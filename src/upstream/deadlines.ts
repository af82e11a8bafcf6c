/**
 * Deadlines of many requests on one timer. The timer is armed for the earliest deadline and is
 * left running when that deadline is removed: starting and finishing a request costs a `Set`
 * insert and delete, not a `setTimeout` and `clearTimeout` (measured at several percent of a
 * call's CPU, and at one client every call emptied the set and armed the timer again). A timer
 * that fires before anything is due is armed again for the earliest deadline, so with requests
 * in flight it fires about once per timeout period. While nothing waits, it does not keep the
 * process alive (it is unreferenced).
 */

/** One deadline: `fire` runs once `at` (epoch ms) has passed, unless it was removed first. */
export interface Deadline {
  readonly at: number;
  fire(): void;
}

/** The timer functions the queue uses (tests count the calls); `T` is the timer's handle. */
export interface Timers<T = unknown> {
  set(callback: () => void, ms: number): T;
  clear(timer: T): void;
  /** Lets the timer keep the process alive again. */
  ref(timer: T): void;
  /** Stops the timer from keeping the process alive. */
  unref(timer: T): void;
}

const PLATFORM_TIMERS: Timers<ReturnType<typeof setTimeout>> = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (timer) => clearTimeout(timer),
  ref: (timer) => timer.ref(),
  unref: (timer) => timer.unref(),
};

/** A set of deadlines served by a single timer. */
export class DeadlineQueue {
  readonly #entries = new Set<Deadline>();
  readonly #timers: Timers;
  #timer: unknown;
  #armedFor = Infinity;
  #referenced = false;

  constructor(timers: Timers = PLATFORM_TIMERS as Timers) {
    this.#timers = timers;
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Adds a deadline. */
  add(deadline: Deadline): void {
    this.#entries.add(deadline);
    if (deadline.at < this.#armedFor) this.#arm(deadline.at);
    else if (!this.#referenced) {
      this.#referenced = true;
      this.#timers.ref(this.#timer);
    }
  }

  /** Removes a deadline (a no-op once it fired). */
  delete(deadline: Deadline): void {
    if (!this.#entries.delete(deadline) || this.#entries.size > 0 || !this.#referenced) return;
    this.#referenced = false;
    this.#timers.unref(this.#timer);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#armedFor = at;
    this.#timer = this.#timers.set(() => this.#run(), Math.max(0, at - Date.now()));
    this.#referenced = true;
  }

  #run(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#referenced = false;
    const now = Date.now();
    const due: Deadline[] = [];
    let next = Infinity;
    for (const deadline of this.#entries) {
      if (deadline.at <= now) due.push(deadline);
      else if (deadline.at < next) next = deadline.at;
    }
    for (const deadline of due) this.#entries.delete(deadline);
    if (next !== Infinity) this.#arm(next);
    for (const deadline of due) deadline.fire();
  }
}

/** The deadlines of every upstream request of the process. */
export const deadlines: DeadlineQueue = new DeadlineQueue();
