/**
 * What upstreams say on their own, relayed to the sessions it concerns: list changes of the
 * merged catalog, resource updates to their subscribers, log messages to sessions that asked for
 * that level and may use something of that server, and requests of a session's own upstream
 * instance to that session's client.
 */
import { ownedNotification } from "../core/forward.ts";
import { McpError } from "../mcp/errors.ts";
import {
  ErrorCode,
  type JsonObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import type { Catalog } from "../upstream/catalog.ts";
import { logLevelAllows } from "../mcp/log_levels.ts";
import { mayUseServer } from "../core/scopes.ts";
import { askClient, sendUnsolicited, type SessionStore } from "./sessions.ts";
import type { Subscriptions } from "../core/subscriptions.ts";
import type { Listeners, ListKind } from "./listen.ts";

/** Where relayed messages go. */
export interface RelayTargets {
  sessions: SessionStore;
  /** The subscriptions/listen streams of 2026-07-28 clients (they subscribe like sessions). */
  listeners: Listeners;
  subscriptions: Subscriptions;
  catalog(): Catalog;
  /** In a cluster: hands a shared upstream's notification to every replica ({@link deliverNotification}). */
  share?(server: string, notification: JsonRpcNotification): void;
}

const KINDS = [["tools", "tools"], ["prompts", "prompts"], ["resources", "resources"], [
  "templates",
  "resources",
]] as const;

/**
 * Tells every session which lists changed between two catalogs
 * (`notifications/<kind>/list_changed`); returns the kinds that changed.
 */
export function announceChanges(
  previous: Catalog,
  next: Catalog,
  sessions: SessionStore,
): Set<ListKind> {
  const changed = new Set<ListKind>();
  for (const [list, kind] of KINDS) {
    if (JSON.stringify(previous[list]) !== JSON.stringify(next[list])) changed.add(kind);
  }
  for (const kind of changed) {
    sessions.broadcast(
      JSON.stringify({ jsonrpc: "2.0", method: `notifications/${kind}/list_changed` }),
    );
  }
  return changed;
}

/**
 * Relays a notification an upstream sent outside any call; `sessionId` is set for a per-session
 * instance. In a cluster, a shared upstream's notification reaches one replica: it hands it to
 * every replica, and each relays it to the sessions it holds (the outbox drops the copies).
 */
export function relayNotification(
  targets: RelayTargets,
  server: string,
  notification: JsonRpcNotification,
  sessionId: string | undefined,
): void {
  if (targets.share && sessionId === undefined && SHARED.has(notification.method)) {
    targets.share(server, notification);
  } else deliverNotification(targets, server, notification, sessionId);
}

/** Notifications of a shared upstream that every replica of a cluster relays. */
const SHARED = new Set(["notifications/resources/updated", "notifications/message"]);

/**
 * Relays a notification to the sessions this replica holds that it concerns; `once`, in a
 * cluster, names this notification the same on every replica.
 */
export function deliverNotification(
  targets: RelayTargets,
  server: string,
  notification: JsonRpcNotification,
  sessionId: string | undefined,
  once?: string,
): void {
  const { sessions } = targets;
  const only = (id: string) => (sessionId === undefined || sessionId === id);
  // The upstream's reserved _meta keys (its listen stream's subscription id) are not the client's.
  const owned = ownedNotification(notification);
  if (owned.method === "notifications/resources/updated") {
    const uri = owned.params?.uri;
    if (typeof uri !== "string") return;
    const exposedUri = targets.catalog().exposeUri(server, uri);
    const exposed = { ...owned.params, uri: exposedUri };
    const json = JSON.stringify({ ...owned, params: exposed });
    for (const id of targets.subscriptions.sessionsOf(server, uri)) {
      if (targets.listeners.has(id)) {
        targets.listeners.resourceUpdated(id, exposed);
        continue;
      }
      // In a cluster, the sessions are found below: one may have subscribed elsewhere.
      if (targets.share) continue;
      const session = only(id) ? sessions.touch(id) : undefined;
      if (session?.subscriptions.has(exposedUri)) sendUnsolicited(session, json, once);
    }
    if (!targets.share) return;
    for (const session of sessions.values()) {
      if (only(session.id) && session.subscriptions.has(exposedUri)) {
        sendUnsolicited(session, json, once);
      }
    }
    return;
  }
  if (owned.method === "notifications/message") {
    const json = JSON.stringify(owned);
    const catalog = targets.catalog();
    for (const session of sessions.values()) {
      if (!only(session.id) || session.logLevel === undefined) continue;
      if (
        logLevelAllows(session.logLevel, owned.params?.level) &&
        mayUseServer(catalog, session.identity, server)
      ) sendUnsolicited(session, json, once);
    }
  }
}

/**
 * Relays a server→client request not tied to a call: a per-session instance's request goes to
 * its session's client on the GET stream; a shared session has no single client to ask.
 */
export function relayRequest(
  targets: RelayTargets,
  request: JsonRpcRequest,
  sessionId: string | undefined,
  signal: AbortSignal,
): Promise<JsonObject> {
  const session = sessionId === undefined ? undefined : targets.sessions.touch(sessionId);
  if (!session) {
    return Promise.reject(
      new McpError(
        ErrorCode.MethodNotFound,
        `'${request.method}' outside a call cannot be relayed: the upstream session is shared by many clients`,
      ),
    );
  }
  const message = request.params === undefined
    ? { method: request.method }
    : { method: request.method, params: request.params };
  return askClient(session, message, signal, (json) => sendUnsolicited(session, json));
}
