/**
 * Resource subscriptions of downstream sessions. A shared upstream session is subscribed once,
 * when the first client subscribes, and unsubscribed when the last one leaves; a per-session
 * instance is subscribed for its own client.
 */
import type { Route } from "../upstream/catalog.ts";

/** Who subscribed to which upstream resource. */
export class Subscriptions {
  readonly #subscribers = new Map<string, Set<string>>();

  /** Records a subscription; true when the upstream must be asked (first subscriber, or a per-session instance). */
  add(route: Route, sessionId: string, perSession: boolean): boolean {
    const key = keyOf(route);
    const sessions = this.#subscribers.get(key) ?? new Set();
    const first = sessions.size === 0;
    sessions.add(sessionId);
    this.#subscribers.set(key, sessions);
    return first || perSession;
  }

  /** Drops a subscription; true when the upstream must be told (last subscriber, or a per-session instance). */
  remove(route: Route, sessionId: string, perSession: boolean): boolean {
    const key = keyOf(route);
    const sessions = this.#subscribers.get(key);
    if (!sessions?.delete(sessionId)) return false;
    if (sessions.size === 0) this.#subscribers.delete(key);
    return sessions.size === 0 || perSession;
  }

  /** The sessions subscribed to a server's resource. */
  sessionsOf(server: string, uri: string): readonly string[] {
    return [...(this.#subscribers.get(keyOf({ server, name: uri })) ?? [])];
  }

  /** Forgets every subscription of a session that ended. */
  endSession(sessionId: string): void {
    for (const [key, sessions] of this.#subscribers) {
      sessions.delete(sessionId);
      if (sessions.size === 0) this.#subscribers.delete(key);
    }
  }
}

function keyOf(route: Route): string {
  return `${route.server}\u0000${route.name}`;
}
