/**
 * 2025 sessions known to every replica: each session has a record in the store (identity name,
 * protocol version, the kept client capabilities and info, log level, when it was created and
 * last active) and a set of its resource subscriptions (changed one URI at a time, so that
 * subscriptions made at once through several replicas all count), and each replica holds the
 * sessions it served, as a cache kept current by the bus (a session ended or changed anywhere
 * is seen everywhere within a publish).
 *
 * Nothing here is on a call's path but a cache miss: activity is written every second in one
 * round trip for all the sessions used meanwhile, and idle expiry and caps run in the store.
 */
import type { ChainableCommander } from "ioredis";
import type { Identity } from "../http/auth.ts";
import type { Logger } from "../log.ts";
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import {
  type EndReason,
  newSession,
  OUTBOX_LIMIT,
  type RequestKey,
  type Session,
  type SessionCaps,
  type SessionSharing,
  type SessionStore,
  settleAsked,
} from "../downstream/sessions.ts";
import type { SseChannel } from "../downstream/sse_channel.ts";
import type { Clock } from "../upstream/clock.ts";
import type { BusMessage, Cluster } from "./cluster.ts";
import { StreamReplay } from "./stream_replay.ts";

/** How often activity is written, and how recent activity makes a session too busy to evict. */
const FLUSH_MS = 1000;
const BUSY_MS = 2000;
/** Sessions per round trip when activity is written or checked. */
const CHUNK = 500;

/** Options of {@link SharedSessions}. */
export interface SharedSessionsOptions {
  cluster: Cluster;
  /** The store these records back (set once it is built). */
  sessions(): SessionStore;
  idleTtlMs: number;
  unusedTtlMs: number;
  gcIntervalMs: number;
  clock: Clock;
  log: Logger;
}

/** The session records of a cluster, as one replica uses them. */
export class SharedSessions implements SessionSharing {
  readonly #options: SharedSessionsOptions;
  readonly #cluster: Cluster;
  readonly #dirty = new Set<string>();
  /** Subscription changes sent from here and not yet done, per session. */
  readonly #changing = new Map<string, number>();
  readonly #replay: StreamReplay;

  constructor(options: SharedSessionsOptions) {
    this.#options = options;
    this.#cluster = options.cluster;
    this.#replay = new StreamReplay(options.cluster);
    const cluster = this.#cluster;
    cluster.onBus("end", (m) => this.#forget(m));
    cluster.onBus("chg", (m) => void this.#refresh(m).catch(() => {}));
    cluster.onBus("ans", (m) => {
      const session = this.#held(m);
      if (session && isJsonObject(m.m)) settleAsked(session, m.m);
    });
    cluster.onBus("cancel", (m) => {
      const session = this.#held(m);
      const id = m.id;
      if (session && (typeof id === "string" || typeof id === "number")) {
        session.inflight.get(id)?.abort();
      }
    });
    cluster.onOutbox((id, eventId, json) => {
      const session = options.sessions().has(id) ? options.sessions().touch(id) : undefined;
      if (session) this.#replay.live(session, eventId, json);
    });
    cluster.onUp(() => void this.#revalidate().catch(() => {}));
  }

  /** Writes activity every second and sweeps idle sessions until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    let swept = clock.now();
    while (!signal.aborted) {
      try {
        await clock.sleep(FLUSH_MS, signal);
      } catch {
        return;
      }
      await this.#flush().catch(() => {});
      if (clock.now() - swept < this.#options.gcIntervalMs) continue;
      swept = clock.now();
      const ended = await this.#cluster.run("sweep", [
        this.#options.idleTtlMs,
        this.#options.unusedTtlMs,
        1000,
      ]).catch(() => 0);
      if (Number(ended) > 0) this.#options.log.info("evicted idle sessions", { count: ended });
    }
  }

  async open(session: Session, caps: SessionCaps): Promise<"client" | "gateway" | undefined> {
    this.#observe(session);
    const fields = [
      "who",
      session.identity?.name ?? "",
      "v",
      session.protocolVersion,
      "caps",
      JSON.stringify(session.clientCapabilities),
      "info",
      JSON.stringify(session.clientInfo),
      "lvl",
      "",
    ];
    const [outcome] = await this.#cluster.run("admit", [
      session.id,
      session.identity?.name ?? "",
      caps.perClient,
      caps.total,
      BUSY_MS,
      this.#options.idleTtlMs,
      ...fields,
    ]) as string[];
    return outcome === "client" || outcome === "gateway" ? outcome : undefined;
  }

  async load(id: string, identity: Identity | undefined): Promise<Session | undefined> {
    const [record, subs] = await this.#read<Record<string, string>>(
      id,
      (redis, key) => redis.hgetall(key),
    );
    if (record.v === undefined || record.who !== (identity?.name ?? "")) return undefined;
    const session = newSession(
      {
        protocolVersion: record.v,
        clientCapabilities: parseObject(record.caps),
        clientInfo: parseObject(record.info),
        identity,
      },
      Number(record.created) || this.#options.clock.now(),
      id,
    );
    session.used = record.used === "1";
    this.#apply(session, record.lvl, subs);
    this.#observe(session);
    return session;
  }

  async remove(id: string, reason: EndReason): Promise<void> {
    this.#dirty.delete(id);
    try {
      await this.#cluster.run("remove", [id, reason]);
    } catch (error) {
      this.#options.log.warn("cannot end the session cluster-wide", { session: id, error });
      throw error;
    }
  }

  touched(session: Session): void {
    this.#dirty.add(session.id);
  }

  attach(session: Session, channel: SseChannel, lastEventId: string | null): void {
    this.#replay.attach(session, channel, lastEventId);
  }

  detach(session: Session, channel: SseChannel): void {
    this.#replay.detach(session, channel);
  }

  answer(session: Session, message: JsonObject): void {
    this.#cluster.publish({ t: "ans", s: session.id, m: message });
  }

  cancel(session: Session, requestId: RequestKey): void {
    const id = typeof requestId === "bigint" ? requestId.toString() : requestId;
    this.#cluster.publish({ t: "cancel", s: session.id, id });
  }

  /** Routes what a session is told outside requests through its outbox, and saves its changes. */
  #observe(session: Session): void {
    session.deliver = (json, once) => this.#push(session, json, once ?? "");
    let level = session.logLevel;
    Object.defineProperty(session, "logLevel", {
      configurable: true,
      get: () => level,
      set: (value: string | undefined) => {
        level = value;
        this.#save(session);
      },
    });
    const subscriptions = session.subscriptions;
    const change = (uri: string, wanted: boolean) => this.#subscribe(session, uri, wanted);
    subscriptions.add = function (uri) {
      if (!this.has(uri)) change(uri, true);
      return Set.prototype.add.call(this, uri);
    };
    subscriptions.delete = function (uri) {
      const had = Set.prototype.delete.call(this, uri);
      if (had) change(uri, false);
      return had;
    };
  }

  /**
   * Appends to the session's outbox (once per `once` key, when set); when the store is down,
   * delivers here if this replica can.
   */
  #push(session: Session, json: string, once: string): void {
    this.#cluster.run("push", [session.id, json, OUTBOX_LIMIT, this.#options.idleTtlMs, once])
      .catch(() => {
        if (session.stream?.send(json)) return;
        session.outbox.push(json);
        if (session.outbox.length > OUTBOX_LIMIT) session.outbox.shift();
      });
  }

  #save(session: Session): void {
    const key = `${this.#cluster.prefix}s:${session.id}`;
    this.#cluster.command(
      "save the session",
      (redis) => redis.hset(key, "lvl", session.logLevel ?? ""),
    ).then(
      () => this.#cluster.publish({ t: "chg", s: session.id }),
      (error) => this.#options.log.warn("cannot save the session", { session: session.id, error }),
    );
  }

  /** Adds or removes one subscription in the store (which announces the change to every replica). */
  #subscribe(session: Session, uri: string, wanted: boolean): void {
    const id = session.id;
    this.#changing.set(id, (this.#changing.get(id) ?? 0) + 1);
    this.#cluster.run("subscribe", [id, uri, wanted ? "1" : "0"]).catch((error) =>
      this.#options.log.warn("cannot save the session's subscription", { session: id, error })
    ).finally(() => {
      const left = this.#changing.get(id)! - 1;
      if (left === 0) this.#changing.delete(id);
      else this.#changing.set(id, left);
    });
  }

  /** A session another replica changed: its log level and subscriptions, read again. */
  async #refresh(message: BusMessage): Promise<void> {
    const session = this.#held(message);
    if (!session) return;
    const [lvl, subs] = await this.#read<string | null>(
      session.id,
      (redis, key) => redis.hget(key, "lvl"),
    );
    // While changes sent from here are under way, the set read may miss them: their own
    // announcements come after them and read it again.
    this.#apply(session, lvl ?? "", this.#changing.has(session.id) ? undefined : subs);
  }

  /** Reads part of a session's record (`read`) and its subscriptions, in one round trip. */
  async #read<T>(
    id: string,
    read: (redis: ChainableCommander, key: string) => ChainableCommander,
  ): Promise<[T, string[]]> {
    const key = `${this.#cluster.prefix}s:${id}`;
    const replies = await this.#cluster.command(
      "load the session",
      (redis) => read(redis.pipeline(), key).smembers(`${this.#cluster.prefix}sub:${id}`).exec(),
    );
    const [[recordError, record], [subsError, subs]] = replies as [[Error | null, T], [
      Error | null,
      string[],
    ]];
    if (recordError ?? subsError) throw recordError ?? subsError;
    return [record, subs];
  }

  /**
   * Sets a session's log level and subscriptions (unless `subs` is undefined) from the store,
   * without saving them back.
   */
  #apply(session: Session, lvl: string | undefined, subs: readonly string[] | undefined): void {
    Object.defineProperty(session, "logLevel", {
      value: lvl ? lvl : undefined,
      writable: true,
      configurable: true,
    });
    if (subs !== undefined) {
      Set.prototype.clear.call(session.subscriptions);
      for (const uri of subs) Set.prototype.add.call(session.subscriptions, uri);
    }
    if (session.deliver) this.#observe(session);
  }

  #held(message: BusMessage): Session | undefined {
    const id = message.s;
    return typeof id === "string" && this.#options.sessions().has(id)
      ? this.#options.sessions().touch(id)
      : undefined;
  }

  #forget(message: BusMessage): void {
    if (typeof message.s !== "string") return;
    const reason = typeof message.r === "string" ? message.r as EndReason : "client_delete";
    this.#dirty.delete(message.s);
    this.#options.sessions().forget(message.s, reason);
  }

  /** Writes the activity of sessions used since the last flush, or busy now; forgets ended ones. */
  async #flush(): Promise<void> {
    const active = new Set(this.#dirty);
    this.#dirty.clear();
    for (const session of this.#options.sessions().values()) {
      if (session.inflight.size > 0 || (session.stream && !session.stream.closed)) {
        active.add(session.id);
      }
    }
    const ids = [...active];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      let gone: string[];
      try {
        gone = await this.#cluster.run("touch", [this.#options.idleTtlMs, ...chunk]) as string[];
      } catch (error) {
        // Written at the next flush that reaches the store.
        for (const id of chunk) this.#dirty.add(id);
        throw error;
      }
      for (const id of gone) this.#options.sessions().forget(id, "idle_timeout");
    }
  }

  /**
   * After the store was unreachable (bus messages may have been missed; the store may have
   * restarted without its data): forgets the sessions whose record is gone.
   */
  async #revalidate(): Promise<void> {
    const ids = [...this.#options.sessions().values()].map((s) => s.id);
    const prefix = this.#cluster.prefix;
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const exists = await this.#cluster.command("check the sessions held here", (redis) => {
        const pipeline = redis.pipeline();
        for (const id of chunk) pipeline.exists(`${prefix}s:${id}`);
        return pipeline.exec();
      });
      chunk.forEach((id, index) => {
        if (exists?.[index]?.[1] === 0) this.#options.sessions().forget(id, "idle_timeout");
      });
    }
  }
}

function parseObject(text: string | undefined): JsonObject {
  try {
    const value = JSON.parse(text ?? "{}");
    return isJsonObject(value) ? value : {};
  } catch {
    return {};
  }
}
