/** Downstream sessions: unguessable ids, per-session state beside the request path, idle eviction. */
import { McpError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject, type JsonObject, type JsonRpcId } from "../mcp/jsonrpc.ts";
import type { Clock } from "../upstream/clock.ts";
import type { Logger } from "../log.ts";
import type { Identity } from "../http/auth.ts";
import type { SseChannel } from "./sse_channel.ts";

/**
 * Why a session ended, as a bounded metrics label: `evicted` is an idle session ended to make
 * room under a session cap; `auth_changed` one whose identity a reload removed or changed.
 */
export type EndReason =
  | "client_delete"
  | "idle_timeout"
  | "evicted"
  | "auth_changed"
  | "gateway_shutdown";

/** One downstream client session. */
export interface Session {
  readonly id: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: JsonObject;
  readonly clientInfo: { name?: string; version?: string };
  /** Who opened the session (when auth is on); only they may use it. */
  readonly identity: Identity | undefined;
  readonly createdAt: number;
  lastActivity: number;
  /** Whether the client made a request or opened its stream since `initialize`. */
  used: boolean;
  /** The open GET stream for messages not tied to a request. */
  stream: SseChannel | undefined;
  /** Messages not tied to a request that arrived while no GET stream was open. */
  readonly outbox: string[];
  /** Requests being served, by downstream id, so `notifications/cancelled` can stop them. */
  readonly inflight: Map<RequestKey, AbortController>;
  /** The minimum log level the client asked for with `logging/setLevel`, if it did. */
  logLevel: string | undefined;
  /** Exposed resource URIs the client subscribed to. */
  readonly subscriptions: Set<string>;
  /** Requests the gateway sent to the client (relayed from upstreams), awaiting its answer. */
  readonly asked: Map<string, PromiseWithResolvers<JsonObject>>;
  /** Aborted when the session ends: stops its in-flight work. */
  readonly ended: AbortController;
  /**
   * Set in a cluster: where messages not tied to a request go instead of the local outbox;
   * `once` names a message every replica may send, so that only the first copy counts.
   */
  deliver?: (json: string, once?: string) => void;
}

/**
 * What a cluster adds to the sessions of one replica (absent: one process, all in memory): the
 * session records every replica can read, their outboxes, and the messages that must reach the
 * replica holding something of a session.
 */
export interface SessionSharing {
  /** Records a new session cluster-wide under the caps; the cap that is full of busy sessions, if any. */
  open(session: Session, caps: SessionCaps): Promise<"client" | "gateway" | undefined>;
  /** A session this replica does not hold yet, from its record (undefined: there is none). */
  load(id: string, identity: Identity | undefined): Promise<Session | undefined>;
  /** A session was ended here for a reason that ends it everywhere; resolves once it is. */
  remove(id: string, reason: EndReason): Promise<void>;
  /** The session was used (a request or a stream). */
  touched(session: Session): void;
  /** Opens a GET stream here: replays what the client missed, then delivers what comes. */
  attach(session: Session, channel: SseChannel, lastEventId: string | null): void;
  /** The session's GET stream here closed. */
  detach(session: Session, channel: SseChannel): void;
  /** A client's answer to a request this replica did not ask: for the replica that did. */
  answer(session: Session, message: JsonObject): void;
  /** A cancellation of a request this replica is not serving: for the replica that is. */
  cancel(session: Session, requestId: RequestKey): void;
}

/** End reasons that end a session on every replica (the others only end this replica's part). */
const CLUSTER_WIDE: ReadonlySet<EndReason> = new Set(["client_delete", "evicted", "auth_changed"]);

/** How many undelivered messages a session without a GET stream keeps (the oldest go first). */
export const OUTBOX_LIMIT = 64;

/**
 * Sends a message not tied to a request on the session's GET stream. Until the client opens
 * one (SDK clients do so just after the handshake), messages wait in a bounded outbox.
 */
export function sendUnsolicited(session: Session, json: string, once?: string): void {
  if (session.deliver) return session.deliver(json, once);
  if (session.stream?.send(json)) return;
  session.outbox.push(json);
  if (session.outbox.length > OUTBOX_LIMIT) session.outbox.shift();
}

/** Attaches a GET stream to a session and delivers what waited for it. */
export function attachStream(session: Session, channel: SseChannel): void {
  session.stream = channel;
  for (const json of session.outbox.splice(0)) channel.send(json);
}

/**
 * A request id as the endpoint keeps it: an integer beyond 2^53 is a bigint holding the digits
 * the client sent, which a JSON number would round.
 */
export type RequestKey = JsonRpcId | bigint;

/** What a client declared in `initialize` (already reduced to what the gateway keeps). */
export interface SessionInit {
  protocolVersion: string;
  clientCapabilities: JsonObject;
  clientInfo: { name?: string; version?: string };
  identity: Identity | undefined;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  clock: Clock;
  idleTtlMs: number;
  /** How long a session that made no request after `initialize` is kept. */
  unusedTtlMs: number;
  log: Logger;
  onEnd?(session: Session, reason: EndReason): void;
  /** Set in a cluster. */
  sharing?: SessionSharing;
}

/** Session caps: per identity (0: none) and in all. */
export interface SessionCaps {
  perClient: number;
  total: number;
}

/** The live sessions. */
export class SessionStore {
  readonly #options: SessionStoreOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #owned = new Map<string, number>();
  /** Sessions being loaded from the cluster store, so concurrent requests load each once. */
  readonly #loading = new Map<string, Promise<Session | undefined>>();

  constructor(options: SessionStoreOptions) {
    this.#options = options;
  }

  /** Number of live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Every live session. */
  values(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /**
   * Opens a session under `caps` (making room by ending idle sessions), or says which cap is full
   * of sessions with calls in flight; in a cluster, once the store recorded it.
   */
  open(
    init: SessionInit,
    caps: SessionCaps,
  ): Session | "client" | "gateway" | Promise<Session | "client" | "gateway"> {
    const sharing = this.#options.sharing;
    if (!sharing) return this.makeRoom(init.identity?.name, caps) ?? this.create(init);
    const session = newSession(init, this.#options.clock.now());
    return sharing.open(session, caps).then((full) => full ?? this.adopt(session));
  }

  /** Opens a session with a fresh id from the platform's CSPRNG (122 random bits). */
  create(init: SessionInit): Session {
    return this.adopt(newSession(init, this.#options.clock.now()));
  }

  /** Holds a session made here or loaded from the cluster store. */
  adopt(session: Session): Session {
    this.#sessions.set(session.id, session);
    const owner = session.identity?.name;
    if (owner !== undefined) this.#owned.set(owner, this.ownedBy(owner) + 1);
    return session;
  }

  /**
   * Finds a session and marks it active: at once when this replica holds it; in a cluster, a
   * session opened elsewhere is loaded from the store (rejecting when the store is unreachable).
   */
  find(
    id: string,
    identity: Identity | undefined,
  ): Session | undefined | Promise<Session | undefined> {
    const session = this.touch(id);
    const sharing = this.#options.sharing;
    if (session || !sharing) return session;
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = sharing.load(id, identity).then((loaded) => {
        if (!loaded) return undefined;
        return this.#sessions.get(id) ?? this.adopt(loaded);
      }).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading.then((found) => (found ? this.touch(id) : undefined));
  }

  /** Opens a GET stream on a session (replaying what it missed, in a cluster). */
  attach(session: Session, channel: SseChannel, lastEventId: string | null): void {
    const sharing = this.#options.sharing;
    if (sharing) sharing.attach(session, channel, lastEventId);
    else attachStream(session, channel);
  }

  /** A GET stream closed. */
  detach(session: Session, channel: SseChannel): void {
    if (session.stream === channel) session.stream = undefined;
    this.#options.sharing?.detach(session, channel);
  }

  /** A client's answer that no request of this replica waits for: in a cluster, another's. */
  answerElsewhere(session: Session, message: JsonObject): void {
    this.#options.sharing?.answer(session, message);
  }

  /** A cancellation of a request this replica does not serve: in a cluster, another's. */
  cancelElsewhere(session: Session, requestId: RequestKey): void {
    this.#options.sharing?.cancel(session, requestId);
  }

  /** Number of sessions an identity holds. */
  ownedBy(name: string): number {
    return this.#owned.get(name) ?? 0;
  }

  /**
   * Makes room for one more session of `owner` (undefined: anonymous) under `caps`, by ending
   * the least recently used sessions that have no call in flight. Returns which cap is full of
   * busy sessions, or undefined when there is room.
   */
  makeRoom(owner: string | undefined, caps: SessionCaps): "client" | "gateway" | undefined {
    if (owner !== undefined && caps.perClient > 0) {
      while (this.ownedBy(owner) >= caps.perClient) {
        const victim = this.#leastRecentlyUsed(owner);
        if (!victim) return "client";
        this.end(victim.id, "evicted");
      }
    }
    while (this.#sessions.size >= caps.total) {
      const victim = this.#leastRecentlyUsed(undefined);
      if (!victim) return "gateway";
      this.end(victim.id, "evicted");
    }
    return undefined;
  }

  /** The idle session (of `owner`, when given) to end first, if any. */
  #leastRecentlyUsed(owner: string | undefined): Session | undefined {
    let best: Session | undefined;
    for (const session of this.#sessions.values()) {
      if (session.inflight.size > 0) continue;
      if (owner !== undefined && session.identity?.name !== owner) continue;
      if (!best || session.lastActivity < best.lastActivity) best = session;
    }
    return best;
  }

  /** Whether a session with this id is live (without marking it active). */
  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  /** Looks a session up and marks it active. */
  touch(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session) {
      session.lastActivity = this.#options.clock.now();
      this.#options.sharing?.touched(session);
    }
    return session;
  }

  /** Ends a session: stops its work and closes its stream; in a cluster, everywhere when `reason` says so. */
  end(id: string, reason: EndReason): boolean {
    const ended = this.forget(id, reason);
    if (CLUSTER_WIDE.has(reason)) this.#options.sharing?.remove(id, reason).catch(() => {});
    return ended;
  }

  /**
   * Ends a session as a client's DELETE does: in a cluster, once the store has it ended
   * everywhere (other replicas are told at once), so no replica serves it after the answer;
   * rejects, ending nothing, when the store cannot be reached.
   */
  async endEverywhere(id: string): Promise<boolean> {
    // The store first: when it cannot be reached, the session stays whole everywhere.
    const held = this.#sessions.has(id);
    await this.#options.sharing?.remove(id, "client_delete");
    // The store's announcement may have ended it here already.
    this.forget(id, "client_delete");
    return held;
  }

  /** Ends this replica's part of a session (in a cluster, the others keep theirs). */
  forget(id: string, reason: EndReason): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    if (session.identity) {
      const left = this.ownedBy(session.identity.name) - 1;
      if (left > 0) this.#owned.set(session.identity.name, left);
      else this.#owned.delete(session.identity.name);
    }
    session.ended.abort();
    for (const controller of session.inflight.values()) controller.abort();
    for (const asked of session.asked.values()) asked.reject(new Error("the session ended"));
    session.stream?.close();
    this.#options.onEnd?.(session, reason);
    this.#options.log.debug("session ended", { session: id, reason });
    return true;
  }

  /**
   * Ends every session idle for longer than its TTL (the short one until it made a request); a
   * session with work in flight or an open stream is not idle.
   */
  sweep(): number {
    // In a cluster, idle time is the cluster's: the store sweeps its records.
    if (this.#options.sharing) return 0;
    const now = this.#options.clock.now();
    let evicted = 0;
    for (const session of [...this.#sessions.values()]) {
      const ttl = session.used ? this.#options.idleTtlMs : this.#options.unusedTtlMs;
      if (now - session.lastActivity <= ttl || session.inflight.size > 0 || session.stream) {
        continue;
      }
      this.end(session.id, "idle_timeout");
      evicted++;
    }
    return evicted;
  }

  /** Sweeps every `intervalMs` until `signal` aborts. */
  async runGc(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#options.clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
      const evicted = this.sweep();
      if (evicted > 0) this.#options.log.info("evicted idle sessions", { count: evicted });
    }
  }

  /**
   * Sends a message to every session (a list changed); in a cluster, each replica tells the
   * streams it holds, since every replica sees the same upstreams change.
   */
  broadcast(json: string): void {
    for (const session of this.#sessions.values()) {
      if (!this.#options.sharing) sendUnsolicited(session, json);
      else if (session.stream && !session.stream.closed) session.stream.send(json);
    }
  }

  /** Ends every session this replica holds. */
  endAll(reason: EndReason): void {
    for (const id of [...this.#sessions.keys()]) this.end(id, reason);
  }
}

/**
 * A session's state: new, with a fresh id from the platform's CSPRNG (122 random bits), or one
 * opened on another replica of a cluster.
 */
export function newSession(
  init: SessionInit,
  now: number,
  id: string = crypto.randomUUID(),
): Session {
  return {
    id,
    ...init,
    createdAt: now,
    lastActivity: now,
    used: false,
    stream: undefined,
    outbox: [],
    inflight: new Map(),
    asked: new Map(),
    logLevel: undefined,
    subscriptions: new Set(),
    ended: new AbortController(),
  };
}

/**
 * Hands a client's answer to the request of this replica that waits for it; false when none does.
 */
export function settleAsked(session: Session, message: JsonObject): boolean {
  const asked = typeof message.id === "string" ? session.asked.get(message.id) : undefined;
  if (!asked) return false;
  const error = message.error;
  if (isJsonObject(error)) {
    asked.reject(
      new McpError(
        typeof error.code === "number" ? error.code : ErrorCode.InternalError,
        typeof error.message === "string" ? error.message : "Client error",
        error.data,
      ),
    );
  } else asked.resolve(isJsonObject(message.result) ? message.result : {});
  return true;
}

/** The client capability each server→client request needs. */
const CAPABILITY_OF: Record<string, string> = {
  "sampling/createMessage": "sampling",
  "elicitation/create": "elicitation",
  "roots/list": "roots",
};

let askCounter = 0;

/**
 * Sends a request to the client on behalf of an upstream and waits for its answer, which the
 * client POSTs back as a response; a cancelled wait tells the client with notifications/cancelled.
 */
export function askClient(
  session: Session,
  request: { method: string; params?: JsonObject },
  signal: AbortSignal,
  send: (json: string) => void,
): Promise<JsonObject> {
  const capability = CAPABILITY_OF[request.method];
  if (capability !== undefined && session.clientCapabilities[capability] === undefined) {
    return Promise.reject(
      new McpError(
        ErrorCode.MethodNotFound,
        `The client did not declare the '${capability}' capability`,
      ),
    );
  }
  const id = `mcpstead-${++askCounter}`;
  const pending = Promise.withResolvers<JsonObject>();
  session.asked.set(id, pending);
  const onAbort = () => {
    pending.reject(signal.reason);
    send(
      JSON.stringify({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id },
      }),
    );
  };
  signal.addEventListener("abort", onAbort, { once: true });
  send(JSON.stringify({ jsonrpc: "2.0", id, ...request }));
  return pending.promise.finally(() => {
    session.asked.delete(id);
    signal.removeEventListener("abort", onAbort);
  });
}
