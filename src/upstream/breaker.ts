/**
 * A circuit breaker per upstream: closed until `failures` failures fall within `window`, then open
 * (requests fail fast) for `open` time, then half-open: one probe request is let through; its
 * success closes the circuit, its failure opens it again, and a probe that ends without a verdict
 * (cancelled by its client) lets the next request probe. The supervisor knows more than the
 * requests: a reconnect that succeeds closes the circuit, a health check that succeeds ends the
 * open time at once.
 */
import { GatewayError } from "../mcp/errors.ts";
import type { Clock } from "./clock.ts";

/** Breaker states, as shown in `/health`. */
export type CircuitState = "closed" | "open" | "half_open";

/** Breaker settings; 0 failures turns it off. */
export interface BreakerPolicy {
  failures: number;
  window_seconds: number;
  open_seconds: number;
}

/** One upstream's circuit. */
export class CircuitBreaker {
  readonly #server: string;
  readonly #clock: Clock;
  readonly #policy: BreakerPolicy;
  #state: CircuitState = "closed";
  #failures: number[] = [];
  #openUntil = 0;
  #probing = false;

  constructor(server: string, policy: BreakerPolicy, clock: Clock) {
    this.#server = server;
    this.#policy = policy;
    this.#clock = clock;
  }

  /** The current state (an open circuit whose time is up reads as half-open). */
  get state(): CircuitState {
    if (this.#state === "open" && this.#clock.now() >= this.#openUntil) return "half_open";
    return this.#state;
  }

  /**
   * Lets a request through, or throws the fast failure of an open circuit. Returns true when the
   * request is the half-open probe: it must then end in {@link success}, {@link failure} or
   * {@link abandon}.
   */
  admit(): boolean {
    if (this.#policy.failures === 0 || this.#state === "closed") return false;
    const now = this.#clock.now();
    if (this.#state === "open" && now < this.#openUntil) {
      const seconds = Math.ceil((this.#openUntil - now) / 1000);
      throw new GatewayError(
        "upstream_circuit_open",
        this.#server,
        `Upstream '${this.#server}' is failing; its circuit is open for ${seconds} s more (circuit_breaker)`,
        { retryAfterMs: this.#openUntil - now },
      );
    }
    if (this.#probing) {
      throw new GatewayError(
        "upstream_circuit_open",
        this.#server,
        `Upstream '${this.#server}' is being probed; try again shortly`,
        {
          retryAfterMs: 1000,
        },
      );
    }
    this.#state = "half_open";
    this.#probing = true;
    return true;
  }

  /** The probe ended without telling whether the upstream works: the next request probes. */
  abandon(): void {
    this.#probing = false;
  }

  /** The upstream reconnected: the circuit closes. */
  reset(): void {
    this.#state = "closed";
    this.#probing = false;
    this.#failures = [];
  }

  /** A health check of the upstream succeeded: an open circuit may probe at once. */
  recovered(): void {
    if (this.#state === "open") this.#openUntil = Math.min(this.#openUntil, this.#clock.now());
  }

  /** Records a success: a probe's success closes the circuit. */
  success(): void {
    this.#probing = false;
    if (this.#state !== "closed") {
      this.#state = "closed";
      this.#failures = [];
    }
  }

  /** Records a failure of the upstream (not of the tool). */
  failure(): void {
    if (this.#policy.failures === 0) return;
    const now = this.#clock.now();
    if (this.#state === "half_open") return this.#open(now);
    this.#failures = this.#failures.filter((at) => at > now - this.#policy.window_seconds * 1000);
    this.#failures.push(now);
    if (this.#failures.length >= this.#policy.failures) this.#open(now);
  }

  #open(now: number): void {
    this.#state = "open";
    this.#probing = false;
    this.#openUntil = now + this.#policy.open_seconds * 1000;
    this.#failures = [];
  }
}
