/**
 * The way of one request to an upstream through its limits: the rate limit and the concurrency
 * queue first, then the circuit breaker; requests that are safe to repeat are retried with
 * jittered backoff within the retry budget. A failure of the upstream (not of the tool or the
 * request) counts against the breaker and is reported, so the supervisor can check the upstream.
 */
import type { Logger } from "../log.ts";
import { GatewayError, McpError } from "../mcp/errors.ts";
import { globMatcher } from "../mcp/glob.ts";
import type { JsonObject } from "../mcp/jsonrpc.ts";
import { backoffDelay } from "./backoff.ts";
import { type BreakerPolicy, CircuitBreaker, type CircuitState } from "./breaker.ts";
import type { Clock } from "./clock.ts";
import { ConcurrencyLimit, type RatePolicy, RetryBudget, TokenBucket } from "./limits.ts";
import type { RequestOptions } from "./rpc_calls.ts";

/** The limits of one server, as configured. */
export interface GuardPolicy {
  name: string;
  timeout: number;
  retry: {
    attempts: number;
    backoff_base_ms: number;
    backoff_max_ms: number;
    tools: string[];
    budget: number;
  };
  circuit_breaker: BreakerPolicy;
  rate_limit: RatePolicy;
  max_concurrent: number;
  max_queue: number;
}

/** What a guarded request carries: what the upstream client takes, its deadline set by the guards. */
export type GuardedOptions = Omit<RequestOptions, "timeoutMs"> & { timeoutMs?: number };

/**
 * Sends one attempt of a request (with the options it was run with, and a deadline); the guards
 * decide whether there is another.
 */
export type Attempt<O extends GuardedOptions> = (
  method: string,
  params: JsonObject | undefined,
  options: O & { timeoutMs: number },
) => Promise<JsonObject>;

/** What the guards tell the supervisor. */
export interface GuardEvents {
  /** A request that is safe to repeat is sent again. */
  retried(): void;
  /** The upstream could not be reached or dropped the connection: check it now. */
  unreachable(): void;
  /** The upstream answered. */
  answered(): void;
}

/** Requests that read and change nothing, so a failed one may be sent again. */
const RETRY_SAFE = new Set([
  "ping",
  "tools/list",
  "prompts/list",
  "prompts/get",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "completion/complete",
]);

/** Failures that say the upstream is in trouble (not that a tool or a request was wrong). */
const UPSTREAM_FAULTS = new Set([
  "upstream_unreachable",
  "upstream_disconnected",
  "upstream_timeout",
  "upstream_closed",
  "upstream_http_error",
]);

/** The limits of one upstream, applied to every request. */
export class Guards {
  readonly #policy: GuardPolicy;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly breaker: CircuitBreaker;
  readonly #bucket: TokenBucket;
  readonly #limit: ConcurrencyLimit;
  readonly #budget: RetryBudget;
  readonly #retryTools: (name: string) => boolean;

  constructor(policy: GuardPolicy, clock: Clock, log: Logger) {
    this.#policy = policy;
    this.#clock = clock;
    this.#log = log;
    this.breaker = new CircuitBreaker(policy.name, policy.circuit_breaker, clock);
    this.#bucket = new TokenBucket(policy.rate_limit, clock);
    this.#limit = new ConcurrencyLimit(policy.max_concurrent, policy.max_queue);
    this.#budget = new RetryBudget(policy.retry.budget);
    this.#retryTools = globMatcher(policy.retry.tools);
  }

  /** The circuit breaker's state. */
  get circuit(): CircuitState {
    return this.breaker.state;
  }

  /**
   * Runs `attempt` within the limits; `idempotent` says a failed `tools/call` may be sent again.
   */
  async run<O extends GuardedOptions>(
    method: string,
    params: JsonObject | undefined,
    options: O,
    idempotent: boolean,
    attempt: Attempt<O>,
    events: GuardEvents,
  ): Promise<JsonObject> {
    const { name } = this.#policy;
    const wait = this.#bucket.take();
    if (wait > 0) {
      throw new GatewayError(
        "upstream_rate_limited",
        name,
        `Upstream '${name}' is over its rate limit; retry in ${wait} ms`,
        { retryAfterMs: wait },
      );
    }
    const slot = this.#limit.acquire(options.signal);
    if (slot === false || (slot !== true && !(await slot))) {
      const { max_concurrent, max_queue } = this.#policy;
      throw new GatewayError(
        "upstream_busy",
        name,
        `Upstream '${name}' has ${max_concurrent} calls running and ${max_queue} waiting (max_concurrent, max_queue)`,
        { retryAfterMs: 1000 },
      );
    }
    // One async frame for the whole request: the attempts run here, not in a method of their own.
    try {
      const policy = this.#policy;
      this.#budget.earn();
      const safe = RETRY_SAFE.has(method) ||
        (method === "tools/call" &&
          (idempotent || this.#retryTools(String(params?.name ?? ""))));
      for (let round = 1;; round++) {
        const probe = this.breaker.admit();
        try {
          const result = await attempt(method, params, {
            timeoutMs: policy.timeout * 1000,
            ...options,
          });
          this.breaker.success();
          events.answered();
          return result;
        } catch (error) {
          this.#failed(error, probe, events);
          if (
            !safe || round > policy.retry.attempts || options.signal?.aborted ||
            !this.#budget.spend()
          ) throw error;
          events.retried();
          this.#log.debug("retrying a request that is safe to repeat", {
            method,
            attempt: round,
            error: (error as Error).message,
          });
          await this.#clock.sleep(
            backoffDelay(policy.retry, round, () => this.#clock.random()),
            options.signal ?? AbortSignal.timeout(60_000),
          );
        }
      }
    } finally {
      this.#limit.release();
    }
  }

  /**
   * Counts a failed attempt: a failure of the upstream against the breaker (returns, so the
   * request may be retried); anything else is thrown on.
   */
  #failed(error: unknown, probe: boolean, events: GuardEvents): void {
    if (
      !(error instanceof GatewayError) || !UPSTREAM_FAULTS.has(error.code) ||
      (error.status ?? 500) < 500
    ) {
      // An answer (a JSON-RPC error, a 4xx) shows the upstream works; a cancelled call or a
      // refusal of the gateway's own tells nothing, but must not keep the probe slot.
      const answered = error instanceof McpError ||
        (error instanceof GatewayError && error.status !== undefined);
      if (answered) this.breaker.success();
      else if (probe) this.breaker.abandon();
      throw error;
    }
    this.breaker.failure();
    if (error.code === "upstream_unreachable" || error.code === "upstream_disconnected") {
      events.unreachable();
    }
  }
}
