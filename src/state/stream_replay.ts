/**
 * The GET streams this replica holds, fed from the sessions' outboxes: every message for a
 * session is appended to its outbox (a Redis stream, so event ids are unique in the cluster and
 * ordered per session) and announced to every replica; the one holding the session's GET stream
 * sends it with its event id. A stream opened with `Last-Event-ID` (on any replica) first gets
 * what followed that event; one opened without it gets what arrived since the last stream closed.
 */
import type { Session } from "../downstream/sessions.ts";
import type { SseChannel } from "../downstream/sse_channel.ts";
import type { Cluster } from "./cluster.ts";

/** The entries of an outbox, as XRANGE returns them. */
type Entries = Array<[string, string[]]>;

interface Held {
  channel: SseChannel;
  /** Messages announced while the replay reads the outbox, sent after it. */
  waiting: Array<[string, string]> | undefined;
  /** The last event id sent. */
  last: string | undefined;
}

const EVENT_ID = /^\d{1,20}-\d{1,20}$/;

/** The GET streams of this replica and their replay. */
export class StreamReplay {
  readonly #cluster: Cluster;
  readonly #held = new Map<string, Held>();

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  /** Opens `channel` as the session's stream, after `lastEventId` when the client sent one. */
  attach(session: Session, channel: SseChannel, lastEventId: string | null): void {
    const held: Held = { channel, waiting: [], last: undefined };
    this.#held.set(session.id, held);
    // Messages that waited here while the store was unreachable.
    for (const json of session.outbox.splice(0)) channel.send(json);
    this.#replay(session.id, held, EVENT_ID.test(lastEventId ?? "") ? lastEventId! : undefined)
      .catch(() => {})
      .finally(() => {
        for (const [eventId, json] of held.waiting ?? []) this.#send(held, eventId, json);
        held.waiting = undefined;
      });
  }

  /** The session's stream closed: the next one without `Last-Event-ID` starts after its last event. */
  detach(session: Session, channel: SseChannel): void {
    const held = this.#held.get(session.id);
    if (held?.channel !== channel) return;
    this.#held.delete(session.id);
    if (held.last === undefined) return;
    const key = `${this.#cluster.prefix}s:${session.id}`;
    const last = held.last;
    this.#cluster.command("save where the stream stopped", (redis) => redis.hset(key, "ack", last))
      .catch(() => {});
  }

  /** A message announced for a session this replica holds: sent if its stream is here. */
  live(session: Session, eventId: string, json: string): void {
    const held = this.#held.get(session.id);
    if (!held || held.channel.closed) return;
    if (held.waiting) held.waiting.push([eventId, json]);
    else this.#send(held, eventId, json);
  }

  async #replay(id: string, held: Held, after: string | undefined): Promise<void> {
    const prefix = this.#cluster.prefix;
    const from = after ?? await this.#cluster.command(
      "read where the last stream stopped",
      (redis) => redis.hget(`${prefix}s:${id}`, "ack"),
    );
    const entries = await this.#cluster.command(
      "replay the session outbox",
      (redis) => redis.xrange(`${prefix}o:${id}`, from ? `(${from}` : "-", "+"),
    ) as Entries;
    for (const [eventId, fields] of entries) this.#send(held, eventId, fields[1] ?? "");
  }

  #send(held: Held, eventId: string, json: string): void {
    if (held.last !== undefined && !isAfter(eventId, held.last)) return;
    held.last = eventId;
    held.channel.send(json, eventId);
  }
}

/** Whether stream id `a` comes after `b` (ids are `<ms>-<seq>`). */
function isAfter(a: string, b: string): boolean {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  return am.length !== bm.length
    ? am.length > bm.length
    : am !== bm
    ? am > bm
    : as.length !== bs.length
    ? as.length > bs.length
    : as > bs;
}
