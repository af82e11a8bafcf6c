/** Time as a seam: supervisors and transports take a Clock, so tests can run backoff and TTLs on fake time. */

/** The passage of time, injectable. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/** Resolves after `ms`, or rejects with `signal.reason` when it aborts first; the timer is always cleared. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: delay,
  random: Math.random,
};

/** Runs `work`, reporting whether it succeeded and how many seconds it took on `clock`. */
export async function timed<T>(
  clock: Clock,
  report: (ok: boolean, seconds: number) => void,
  work: () => Promise<T>,
): Promise<T> {
  const started = clock.now();
  try {
    const result = await work();
    report(true, (clock.now() - started) / 1000);
    return result;
  } catch (error) {
    report(false, (clock.now() - started) / 1000);
    throw error;
  }
}
