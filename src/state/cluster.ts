/**
 * This replica's membership of a cluster: its node id, the link to the store, a heartbeat that
 * tells the others it is alive (with its address and config digest) and lists the replicas seen,
 * the secret the replicas share (kept in the store), and the two pub/sub channels: `bus` for
 * control messages (a session ended or changed, an answer or a cancellation for another replica)
 * and `out` for session outbox messages. Every store call goes through {@link Cluster.run}, which
 * counts it and turns a failure into a clear {@link StoreUnavailableError}.
 */
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics/registry.ts";
import type { Clock } from "../upstream/clock.ts";
import { openRedisLink, type RedisLink, StoreUnavailableError, unavailable } from "./redis.ts";
import { defineScripts, runScript, type ScriptName } from "./scripts.ts";

/** How often a replica says it is alive, and how long it counts as alive after that. */
const HEARTBEAT_MS = 1000;
const ALIVE_MS = 5000;

/** A control message on the bus. */
export interface BusMessage {
  /** Its type: `end`, `chg`, `ans`, `cancel`, `own`, `log`. */
  t: string;
  [field: string]: unknown;
}

/** Another replica (or this one), as its heartbeat describes it. */
export interface Replica {
  node: string;
  /** Where it takes forwarded requests. */
  url: string;
  /** The digest of its config (no secret in it). */
  config: string;
  version: string;
}

/** The keys derived from the shared secret. */
export interface ClusterKeys {
  /** Seals the requestState of 2026-07-28 flows (any replica checks it). */
  requestState: Uint8Array;
  /** Proves a forwarded request comes from a replica. */
  forward: Uint8Array;
}

/** Options of {@link Cluster}. */
export interface ClusterOptions {
  redisUrl: string;
  prefix: string;
  /** This replica's forwarding address (known once it listens). */
  url(): string;
  configDigest: string;
  version: string;
  log: Logger;
  clock: Clock;
  registry: Registry;
}

/** What each script does, for error messages. */
const SCRIPT_ACTIONS: Record<ScriptName, string> = {
  heartbeat: "announce this replica",
  admit: "open the session",
  touch: "record session activity",
  sweep: "end idle sessions",
  remove: "end the session",
  subscribe: "save the session's subscriptions",
  push: "queue a message for the session",
  claim: "find the replica holding the upstream instance",
  take: "take a rate-limit token",
};

/** The keys of each purpose, derived from the shared secret. */
function deriveKeys(secret: string): ClusterKeys {
  const derive = (purpose: string) =>
    new Uint8Array(createHmac("sha256", secret).update(purpose).digest());
  return { requestState: derive("request-state"), forward: derive("forward") };
}

/** The cluster as one replica takes part in it. */
export class Cluster {
  /** This replica's id. */
  readonly node = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  readonly #options: ClusterOptions;
  #digest: string;
  #link: RedisLink | undefined;
  #loadError: string | undefined;
  #replicas = new Map<string, Replica>();
  readonly #bus = new Map<string, Array<(message: BusMessage) => void>>();
  readonly #outbox: Array<(session: string, eventId: string, json: string) => void> = [];
  readonly #upHandlers: Array<() => void> = [];
  readonly #keys = Promise.withResolvers<ClusterKeys>();
  readonly #keyHandlers: Array<(keys: ClusterKeys) => void> = [];
  #secret: string | undefined;
  readonly #metrics;

  constructor(options: ClusterOptions) {
    this.#options = options;
    this.#digest = options.configDigest;
    const { registry } = options;
    this.#metrics = {
      roundTrips: registry.counter({
        name: "mcpstead_cluster_store_round_trips_total",
        help: "Calls to the cluster store (Redis), by operation.",
        labelNames: ["op"] as const,
      }),
      errors: registry.counter({
        name: "mcpstead_cluster_store_errors_total",
        help: "Calls to the cluster store that failed (unreachable, stalled), by operation.",
        labelNames: ["op"] as const,
      }),
      forwarded: registry.counter({
        name: "mcpstead_cluster_forwarded_requests_total",
        help:
          "Requests forwarded to the replica holding their upstream instance or flow, by result.",
        labelNames: ["result"] as const,
      }),
    };
    registry.gauge({
      name: "mcpstead_cluster_store_connected",
      help: "Whether this replica is connected to the cluster store (1) or not (0).",
      collect: () => [{ value: Number(this.connected) }],
    });
    registry.gauge({
      name: "mcpstead_cluster_replicas",
      help: "Replicas seen alive through the cluster store, this one included.",
      collect: () => [{ value: this.#replicas.size }],
    });
  }

  /** Whether the store is reachable now. */
  get connected(): boolean {
    return this.#link?.connected ?? false;
  }

  /** The digest of this replica's config, published with its heartbeat. */
  get configDigest(): string {
    return this.#digest;
  }

  set configDigest(digest: string) {
    this.#digest = digest;
    this.announce();
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#options.prefix;
  }

  /** The replicas seen alive at the last heartbeat (this one included). */
  get replicas(): ReadonlyMap<string, Replica> {
    return this.#replicas;
  }

  /**
   * Runs `handler` with the keys derived from the shared secret once the store gave it, and
   * again if the secret changes (a store that lost its data gets this replica's secret back
   * from the first replica to reconnect; the others adopt it).
   */
  onKeys(handler: (keys: ClusterKeys) => void): void {
    this.#keyHandlers.push(handler);
    this.#keys.promise.then(() => {
      if (this.#secret !== undefined) handler(deriveKeys(this.#secret));
    });
  }

  /** Resolves once the store is reachable and the shared key known, or after `ms` anyway. */
  async connectedWithin(ms: number, signal: AbortSignal): Promise<void> {
    const known = new AbortController();
    const waited = this.#options.clock.sleep(ms, AbortSignal.any([signal, known.signal]));
    try {
      await Promise.race([this.#keys.promise, waited.catch(() => {})]);
    } finally {
      known.abort();
    }
  }

  /** Counts a forwarded request. */
  forwarded(result: "ok" | "owner_gone" | "error"): void {
    this.#metrics.forwarded.inc({ result });
  }

  /** Takes control messages of type `type`. */
  onBus(type: string, handler: (message: BusMessage) => void): void {
    this.#bus.set(type, [...(this.#bus.get(type) ?? []), handler]);
  }

  /** Takes outbox messages of every session. */
  onOutbox(handler: (session: string, eventId: string, json: string) => void): void {
    this.#outbox.push(handler);
  }

  /** Runs `handler` each time the store is reachable again (state may have been missed). */
  onUp(handler: () => void): void {
    this.#upHandlers.push(handler);
  }

  /** Loads the client and connects; keeps going (degraded) when the store is down. */
  async start(signal: AbortSignal): Promise<void> {
    const { log } = this.#options;
    try {
      this.#link = await openRedisLink(this.#options.redisUrl, {
        up: () => this.#up(),
        down: (reason) => log.warn("cluster store unreachable", { error: reason }),
      });
    } catch (error) {
      this.#loadError = unavailable("load the Redis client", error).message;
      log.error("cluster disabled", { error: this.#loadError });
      return;
    }
    defineScripts(this.#link.cmd);
    this.#link.sub.on("message", (channel: string, text: string) => this.#receive(channel, text));
    if (this.#link.connected) this.#up();
    signal.addEventListener("abort", () => this.#link?.close(), { once: true });
    this.#heartbeats(signal);
  }

  /** Runs a script, counted; rejects with {@link StoreUnavailableError} when the store fails. */
  async run(name: ScriptName, args: ReadonlyArray<string | number>): Promise<unknown> {
    return await this.command(
      SCRIPT_ACTIONS[name],
      (redis) => runScript(redis, name, [this.prefix, ...args]),
      name,
    );
  }

  /**
   * Runs one command (or pipeline) on the command connection, counted under `op` (a bounded
   * metrics label); `action` says what failed ("Cannot <action>: ...").
   */
  async command<T>(
    action: string,
    call: (redis: RedisLink["cmd"]) => Promise<T>,
    op = action.replaceAll(" ", "_"),
  ): Promise<T> {
    const link = this.#link;
    this.#metrics.roundTrips.inc({ op });
    if (!link) {
      this.#metrics.errors.inc({ op });
      throw new StoreUnavailableError(
        `Cannot ${action}: ${this.#loadError ?? "the cluster store (Redis) is not connected yet"}`,
      );
    }
    try {
      return await call(link.cmd);
    } catch (error) {
      this.#metrics.errors.inc({ op });
      throw unavailable(action, error);
    }
  }

  /** Publishes a control message to every replica (this one included). */
  publish(message: BusMessage): void {
    this.command(
      "tell the other replicas",
      (redis) => redis.publish(this.#channel("bus"), JSON.stringify(message)),
      "publish",
    )
      .catch((error) => this.#options.log.debug("cannot publish", { error }));
  }

  /** Tells the other replicas at once what changed about this one (its address). */
  announce(): void {
    if (this.connected) this.#beat().catch(() => {});
  }

  /** The `cluster` section of /health. */
  health(): Record<string, unknown> {
    const self = this.#digest;
    const replicas = [...this.#replicas.values()].map((r) => ({
      node: r.node,
      url: r.url,
      version: r.version,
      config_digest: r.config,
      self: r.node === this.node,
    }));
    const differing = replicas.filter((r) => r.config_digest !== self).map((r) => r.node);
    const error = this.#loadError ?? this.#link?.lastError;
    return {
      status: this.connected && differing.length === 0 ? "ok" : "degraded",
      node: this.node,
      store: this.connected ? "connected" : "unreachable",
      ...(error === undefined ? {} : { last_error: error }),
      config_digest: self,
      ...(differing.length === 0 ? {} : { config_differs_on: differing }),
      replicas,
    };
  }

  #channel(name: "bus" | "out"): string {
    return `${this.prefix}${name}`;
  }

  #receive(channel: string, text: string): void {
    if (channel === this.#channel("out")) {
      const first = text.indexOf("\n");
      const second = text.indexOf("\n", first + 1);
      const session = text.slice(0, first);
      const eventId = text.slice(first + 1, second);
      const json = text.slice(second + 1);
      for (const handler of this.#outbox) handler(session, eventId, json);
      return;
    }
    let message: BusMessage;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    for (const handler of this.#bus.get(message.t) ?? []) handler(message);
  }

  /**
   * The store is reachable (again): the channels (subscribed again: a replica that started while
   * the store was down has none yet), the secret, a heartbeat, then whoever missed messages.
   */
  #up(): void {
    if (!this.#link) return;
    this.#options.log.info("cluster store connected", { node: this.node });
    this.#link.sub.subscribe(this.#channel("bus"), this.#channel("out")).catch(() => {});
    this.#fetchKeys().catch(() => {});
    this.#beat().catch(() => {});
    for (const handler of this.#upHandlers) handler();
  }

  async #fetchKeys(): Promise<void> {
    const key = `${this.prefix}secret`;
    const mine = this.#secret ??
      Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    const secret = await this.command("read the shared secret", async (redis) => {
      await redis.set(key, mine, "NX");
      return await redis.get(key);
    });
    if (secret === null || secret === this.#secret) return;
    const first = this.#secret === undefined;
    this.#secret = secret;
    const keys = deriveKeys(secret);
    if (first) this.#keys.resolve(keys);
    else for (const handler of this.#keyHandlers) handler(keys);
  }

  async #heartbeats(signal: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    while (!signal.aborted) {
      try {
        await clock.sleep(HEARTBEAT_MS, signal);
      } catch {
        return;
      }
      await this.#beat().catch(() => {});
    }
  }

  async #beat(): Promise<void> {
    const info = JSON.stringify({
      url: this.#options.url(),
      config: this.#digest,
      version: this.#options.version,
    });
    const seen = await this.run("heartbeat", [this.node, info, ALIVE_MS]) as string[];
    const replicas = new Map<string, Replica>();
    for (let i = 0; i + 1 < seen.length; i += 2) {
      const parsed = JSON.parse(seen[i + 1]!) as Omit<Replica, "node">;
      replicas.set(seen[i]!, { node: seen[i]!, ...parsed });
    }
    this.#replicas = replicas;
  }
}
