/**
 * Polling for conditions that become true asynchronously (a counter on a fixture, a request
 * having arrived), without sleeping a fixed time.
 *
 * @module
 */

/**
 * Resolves once `condition()` (or the promise it returns) is truthy, checking every `intervalMs` (default 5); rejects after
 * `timeoutMs` (default 5000) with `what` in the message. Leaves no timer behind.
 */
export async function waitFor(
  condition: () => unknown | Promise<unknown>,
  what = "condition",
  { timeoutMs = 5_000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) {
      throw new Error(`Cannot wait for ${what}: still false after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
