/** Reconnect delays: exponential, capped, with jitter so a fleet does not reconnect in lockstep. */

/** The reconnect policy of one upstream, as configured. */
export interface BackoffPolicy {
  backoff_base_ms: number;
  backoff_max_ms: number;
}

/**
 * The delay before attempt `failures + 1`: `min(max, base × 2^(failures−1))`, then "equal
 * jitter" (half fixed, half random) so it never drops below half the nominal delay. At least 1 ms.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  failures: number,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const nominal = Math.min(policy.backoff_max_ms, policy.backoff_base_ms * 2 ** exponent);
  const jittered = nominal / 2 + random() * (nominal / 2);
  return Math.max(1, Math.round(jittered));
}
