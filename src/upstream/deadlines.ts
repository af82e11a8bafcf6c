/**
 * Deadlines of many requests on one timer. The timer is armed for the earliest deadline only, so
 * starting and finishing a request costs a `Set` insert and delete, not a `setTimeout` and
 * `clearTimeout` (measured at several percent of a call's CPU); with requests in flight the
 * timer fires about once per timeout period, and it is cleared whenever nothing waits.
 */

/** One deadline: `fire` runs once `at` (epoch ms) has passed, unless it was removed first. */
export interface Deadline {
  readonly at: number;
  fire(): void;
}

/** A set of deadlines served by a single timer. */
export class DeadlineQueue {
  readonly #entries = new Set<Deadline>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** Deadlines waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Adds a deadline. */
  add(deadline: Deadline): void {
    this.#entries.add(deadline);
    if (deadline.at < this.#armedFor) this.#arm(deadline.at);
  }

  /** Removes a deadline (a no-op once it fired). */
  delete(deadline: Deadline): void {
    if (!this.#entries.delete(deadline) || this.#entries.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, at - Date.now()));
  }

  #run(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
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
