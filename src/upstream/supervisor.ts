/**
 * One supervisor per upstream: connect, initialize, list tools; refresh on the TTL and on
 * `notifications/tools/list_changed`; on failure mark the upstream down and reconnect with
 * jittered exponential backoff until `reconnect.max_attempts` (0 = forever). While it is down its
 * last lists stay (marked stale), so its tools are still known and their calls get a clear
 * `upstream_unavailable`; a call during the backoff brings the next attempt forward to at most
 * `backoff_base_ms` after the last one, so an upstream that came back is served again at once.
 */
import { McpError } from "../mcp/errors.ts";
import {
  ErrorCode,
  type JsonObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { describeError } from "../log.ts";
import { backoffDelay } from "./backoff.ts";
import type { CircuitState } from "./breaker.ts";
import { timed } from "./clock.ts";
import { type Attempt, type GuardEvents, Guards } from "./guarded.ts";
import { SessionInstances } from "./instances.ts";
import { EMPTY_LISTS, listAll, type ListOptions, type UpstreamLists } from "./lists.ts";
import { ListenSubscriptions } from "./listen_stream.ts";
import { disconnectedError, redactedError, unavailableError } from "./supervisor_errors.ts";
import type {
  SupervisedConfig,
  SupervisorOptions,
  UpstreamClient,
  UpstreamPhase,
  UpstreamRequestOptions,
  UpstreamStatus,
} from "./supervisor_types.ts";

export type {
  SupervisedConfig,
  SupervisorOptions,
  UpstreamClient,
  UpstreamEvents,
  UpstreamPhase,
  UpstreamRequestOptions,
  UpstreamStatus,
} from "./supervisor_types.ts";
import { BackoffWait, Waker } from "./supervisor_wait.ts";

/** Subscription requests a 2026-07-28 upstream serves through its listen stream instead. */
const SUBSCRIPTION_CHANGE = new Set(["resources/subscribe", "resources/unsubscribe"]);

const LIST_CHANGED = new Set([
  "notifications/tools/list_changed",
  "notifications/prompts/list_changed",
  "notifications/resources/list_changed",
]);

/** Keeps one upstream connected and its tool list fresh. */
export class Supervisor {
  #options: SupervisorOptions;
  #client: UpstreamClient | undefined;
  #lists: UpstreamLists = EMPTY_LISTS;
  #capabilities: JsonObject = {};
  #phase: UpstreamPhase = "connecting";
  #lastSeen: number | undefined;
  #lastError: string | undefined;
  #reconnects = 0;
  #failures = 0;
  #closeError: Error | undefined;
  readonly #waker: Waker;
  readonly #backoff: BackoffWait;
  #settled = Promise.withResolvers<void>();

  readonly #instances: SessionInstances | undefined;
  #guards: Guards;
  /** The listen stream of a 2026-07-28 upstream, and the resources clients subscribed to there. */
  readonly #subscriptions: ListenSubscriptions;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#waker = new Waker(options.clock);
    this.#backoff = new BackoffWait(options.clock, this.#waker);
    this.#subscriptions = new ListenSubscriptions(options);
    this.#lists = options.lists ?? EMPTY_LISTS;
    this.#guards = this.#makeGuards(options.config);
    if (options.perSession) {
      this.#instances = new SessionInstances({
        server: options.config.name,
        maxInstances: options.perSession.maxInstances,
        createClient: (handlers, capabilities) => options.createClient(handlers, capabilities),
        onNotification: (notification, sessionId) =>
          options.onNotification?.(notification, sessionId),
        onRequest: (request, sessionId, signal) => this.#onRequest(request, sessionId, signal),
        log: options.log,
        now: () => options.clock.now(),
      });
    }
  }

  /**
   * Applies a changed deadline, reconnect policy, refresh interval or `required` flag in place;
   * the next wait and request use it.
   */
  update(config: SupervisedConfig): void {
    this.#options = { ...this.#options, config };
    this.#guards = this.#makeGuards(config);
    this.#waker.wake("refresh");
  }

  #makeGuards(config: SupervisedConfig): Guards {
    return new Guards(config, this.#options.clock, this.#options.log);
  }

  /** The circuit breaker's state. */
  get circuit(): CircuitState {
    return this.#guards.circuit;
  }

  /** Whether the server runs one instance per downstream session. */
  get perSession(): boolean {
    return this.#instances !== undefined;
  }

  /** Number of per-session instances running. */
  get sessionInstances(): number {
    return this.#instances?.size ?? 0;
  }

  /** The capabilities the upstream declared when it last connected. */
  get capabilities(): JsonObject {
    return this.#capabilities;
  }

  /** Sends a notification to the upstream (to the session's own instance, if it has one). */
  async notify(method: string, params: JsonObject | undefined, sessionId?: string): Promise<void> {
    const instance = sessionId === undefined ? undefined : this.#instances?.existing(sessionId);
    const client = instance ? await instance : this.client;
    await client?.notify(method, params);
  }

  /** Ends instances unused for `idleMs` whose key has no live session (2026-07-28 callers). */
  async releaseIdle(idleMs: number, ended: (key: string) => boolean): Promise<void> {
    await Promise.all(this.#instances?.releaseIdle(idleMs, ended) ?? []);
  }

  /** Ends the upstream instance of a downstream session that ended. */
  releaseSession(sessionId: string): Promise<void> {
    return this.#instances?.release(sessionId) ?? Promise.resolve();
  }

  /** The server name. */
  get name(): string {
    return this.#options.config.name;
  }

  /** The tools of the last successful listing, kept while the upstream is down. */
  get tools(): readonly JsonObject[] {
    return this.#lists.tools;
  }

  /** Everything the upstream last listed (tools, prompts, resources, templates). */
  get lists(): UpstreamLists {
    return this.#lists;
  }

  /** The connected client, if any. */
  get client(): UpstreamClient | undefined {
    return this.#phase === "connected" ? this.#client : undefined;
  }

  /** A health snapshot. */
  status(): UpstreamStatus {
    return {
      phase: this.#phase,
      backoffMs: this.#backoff.ms,
      instances: this.sessionInstances,
      connected: this.#phase === "connected",
      transport: this.#client?.transport.kind,
      httpClient: this.#client?.transport.httpClient,
      toolsCount: this.#lists.tools.length,
      lastSeen: this.#lastSeen,
      reconnects: this.#reconnects,
      lastError: this.#lastError,
      stale: this.#phase !== "connected" && this.#lists !== EMPTY_LISTS,
      era: this.client?.era,
      protocolVersion: this.client?.initializeResult?.protocolVersion,
    };
  }

  /**
   * Resolves once connected; rejects with the last error after `limit` failed attempts.
   * Startup uses it for `required` upstreams.
   */
  untilConnected(limit: number): Promise<void> {
    if (this.#phase === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#phase === "connected") return resolve();
        if (this.#failures >= limit || this.#phase === "failed" || this.#phase === "stopped") {
          return reject(new Error(this.#lastError ?? `Upstream '${this.name}' is not connected`));
        }
        this.#settled.promise.then(check);
      };
      check();
    });
  }

  /**
   * Sends a request to the upstream (or the session's own instance) through its limits
   * (guarded.ts). Transport failures make the supervisor check the upstream at once.
   */
  request(
    method: string,
    params: JsonObject | undefined,
    options: UpstreamRequestOptions,
  ): Promise<JsonObject> {
    if (!this.client) return Promise.reject(this.#unavailable());
    if (this.client.era === "modern" && SUBSCRIPTION_CHANGE.has(method)) {
      return this.#subscriptions.change(params?.uri, method === "resources/subscribe");
    }
    return this.#guards.run(
      method,
      params,
      options,
      options.idempotent === true,
      this.#attempt,
      this.#guardEvents,
    ).catch(this.#rethrowRedacted);
  }

  /** Rethrows a request's error with the upstream's secrets taken out of its message. */
  readonly #rethrowRedacted = (error: unknown): never => {
    throw redactedError(error, (text) => this.#redact(text));
  };

  /** One attempt of a request: to the session's own instance, or the shared client. */
  readonly #attempt: Attempt<UpstreamRequestOptions> = (method, params, sent) => {
    if (this.#instances && sent.session) return this.#attemptOwn(method, params, sent);
    const client = this.client;
    if (!client) throw disconnectedError(this.name);
    return client.request(method, params, sent);
  };

  async #attemptOwn(
    method: string,
    params: JsonObject | undefined,
    sent: UpstreamRequestOptions & { timeoutMs: number },
  ): Promise<JsonObject> {
    const client = await this.#instances!.get(
      sent.session!,
      sent.signal ?? AbortSignal.timeout(this.#options.config.timeout * 1000),
    );
    if (!client) throw disconnectedError(this.name);
    return await client.request(method, params, sent);
  }

  /** What the guards report back. */
  readonly #guardEvents: GuardEvents = {
    retried: () => this.#options.events?.retried(),
    unreachable: () => this.#waker.wake("check"),
    answered: () => (this.#lastSeen = this.#options.clock.now()),
  };

  /** Runs until `signal` aborts or the attempts are exhausted. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.#options;
    while (!signal.aborted) {
      try {
        await this.#connect(signal);
        await this.#serve(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#options.events?.checked(false);
        if (this.#failures > 0 || this.#reconnects > 0) this.#options.events?.reconnected(false);
        this.#failures++;
        this.#reconnects++;
        this.#lastError = this.#redact(describeError(error));
        await this.#drop();
        this.#settle();
        const { reconnect } = this.#options.config;
        const limit = reconnect.max_attempts;
        if (limit > 0 && this.#failures >= limit) {
          this.#setPhase("failed");
          log.error("upstream gave up reconnecting", {
            failures: this.#failures,
            error: this.#lastError,
          });
          break;
        }
        const wait = backoffDelay(reconnect, this.#failures, () => clock.random());
        log.warn("upstream unavailable", {
          failures: this.#failures,
          retry_ms: wait,
          error: this.#lastError,
        });
        await this.#backOff(wait, signal);
        if (!signal.aborted) this.#setPhase("connecting");
      }
    }
    await this.#drop();
    await this.#instances?.closeAll();
    if (this.#phase !== "failed") this.#setPhase("stopped");
  }

  /** Waits `wait` ms before the next attempt, or less when a call asks for the upstream. */
  async #backOff(wait: number, signal: AbortSignal): Promise<void> {
    this.#setPhase("backoff");
    const seconds = await this.#backoff.run(wait, signal);
    if (!signal.aborted) this.#options.events?.backedOff(seconds);
  }

  /**
   * The error of a call while the upstream is not connected. During a backoff the call brings
   * the next attempt forward to at most `backoff_base_ms` after the last one, so a recovered
   * upstream is not left waiting for a long backoff (attempts still come no faster than that).
   */
  #unavailable(): Error {
    if (this.#phase === "backoff") {
      this.#backoff.demand(this.#options.config.reconnect.backoff_base_ms);
    }
    return unavailableError({
      name: this.name,
      phase: this.#phase,
      failures: this.#failures,
      lastError: this.#lastError,
      retryAfterMs: this.#backoff.leftMs,
    });
  }

  async #connect(signal: AbortSignal): Promise<void> {
    this.#waker.clear();
    this.#closeError = undefined;
    const client = this.#options.createClient({
      onNotification: (n) => this.#onNotification(n),
      onRequest: (request, signal) => this.#onRequest(request, undefined, signal),
      onClose: (error) => {
        this.#closeError = error ?? new Error("the upstream closed the session");
        this.#waker.wake("closed");
      },
    });
    this.#client = client;
    const events = this.#options.events;
    const init = await timed(
      this.#options.clock,
      (ok, s) => events?.initialized(ok, s),
      () => client.connect(signal),
    );
    this.#capabilities = init.capabilities;
    this.#lists = await timed(
      this.#options.clock,
      (ok, s) => events?.refreshed(ok, s),
      () => listAll(client, init.capabilities, this.#listOptions(signal)),
    );
    events?.checked(true);
    if (this.#failures > 0) events?.reconnected(true);
    this.#lastSeen = this.#options.clock.now();
    this.#lastError = undefined;
    this.#guards.breaker.reset();
    if (this.#failures > 0) {
      this.#options.log.info("upstream reconnected", { after_failures: this.#failures });
    }
    this.#failures = 0;
    if (client.era === "modern") this.#subscriptions.start(client);
    this.#options.log.info("upstream connected", {
      transport: client.transport.kind,
      era: client.era,
      protocol_version: init.protocolVersion,
      tools: this.#lists.tools.length,
    });
    this.#setPhase("connected");
  }

  async #serve(signal: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    const client = this.#client!;

    while (!signal.aborted) {
      const config = this.#options.config;
      await this.#waker.wait(this.#refreshMs(config), signal);
      if (signal.aborted) return;
      const wakes = this.#waker.take();
      if (wakes.has("closed")) {
        this.#options.events?.lost();
        throw this.#closeError;
      }
      if (wakes.has("check") && !wakes.has("refresh")) {
        // 2026-07-28 removed ping; server/discover is its cheapest request.
        const probe = client.era === "modern" ? "server/discover" : "ping";
        await client.request(probe, undefined, { timeoutMs: config.timeout * 1000, signal });
        this.#lastSeen = clock.now();
        this.#options.events?.checked(true);
        this.#guards.breaker.recovered();
        continue;
      }
      const lists = await timed(
        clock,
        (ok, s) => this.#options.events?.refreshed(ok, s),
        () =>
          listAll(
            client,
            client.initializeResult?.capabilities ?? {},
            this.#listOptions(signal),
          ),
      );
      this.#lastSeen = clock.now();
      this.#options.events?.checked(true);
      this.#guards.breaker.recovered();
      if (JSON.stringify(lists) !== JSON.stringify(this.#lists)) {
        this.#lists = lists;
        this.#options.onChange();
      }
    }
  }

  /**
   * How long the lists stay fresh: `tools.ttl_seconds`, or sooner when a 2026-07-28 upstream
   * said so in its caching hints (at most once a second).
   */
  #refreshMs(config: SupervisedConfig): number {
    const configured = Math.max(config.tools.ttl_seconds, 1) * 1000;
    const hints = Object.values(this.#lists.hints ?? {});
    if (hints.length === 0) return configured;
    return Math.min(configured, Math.max(Math.min(...hints.map((h) => h.ttlMs)), 1000));
  }

  #listOptions(signal: AbortSignal): ListOptions {
    const { config, log } = this.#options;
    return { server: this.name, timeoutMs: config.timeout * 1000, log, signal };
  }

  #redact(text: string): string {
    return this.#options.redact?.(text) ?? text;
  }

  #onRequest(
    request: JsonRpcRequest,
    sessionId: string | undefined,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    return this.#options.onRequest?.(request, sessionId, signal) ??
      Promise.reject(
        new McpError(ErrorCode.MethodNotFound, `No client to answer '${request.method}'`),
      );
  }

  #onNotification(notification: JsonRpcNotification): void {
    if (LIST_CHANGED.has(notification.method)) this.#waker.wake("refresh");
    this.#options.onNotification?.(notification);
  }

  /** Closes the current session (its lists stay, stale); a lost connection is announced. */
  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#subscriptions.stop();
    if (this.#phase === "connected") this.#setPhase("connecting");
    await client?.close().catch(() => {});
  }

  #setPhase(phase: UpstreamPhase): void {
    const changed = phase !== this.#phase;
    this.#phase = phase;
    if (phase !== "connecting") this.#settle();
    if (changed || phase === "connected") this.#options.onChange();
  }

  /** Wakes everyone waiting in {@link untilConnected} to look at the state again. */
  #settle(): void {
    const settled = this.#settled;
    this.#settled = Promise.withResolvers<void>();
    settled.resolve();
  }
}
