/**
 * `subscriptions/listen` streams of 2026-07-28 clients (spec 2026-07-28: patterns/subscriptions):
 * each stream opts in to list changes and resource updates, is acknowledged first, and tags every
 * notification with its subscription id (the JSON-RPC id of the listen request). The gateway
 * ends a stream gracefully with a `complete` result, for example at shutdown.
 */
import { MAX_SUBSCRIPTIONS } from "../core/resources.ts";
import { META } from "../mcp/era.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { rpcErrorResponse } from "./answer.ts";
import type { wireId } from "./request_ids.ts";
import { SSE_HEADERS, SseChannel } from "./sse_channel.ts";

/** What one stream opted in to. */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  /** Exposed resource URIs. */
  resourceSubscriptions?: string[];
}

/** The list kinds whose changes streams can ask for. */
export type ListKind = "tools" | "prompts" | "resources";

const FLAG_OF: Readonly<Record<ListKind, keyof ListenFilter>> = {
  tools: "toolsListChanged",
  prompts: "promptsListChanged",
  resources: "resourcesListChanged",
};

/** How a listen request is served. */
export interface ServeOptions {
  /** The gateway's capabilities (which list kinds it can announce). */
  offered: JsonObject;
  keepAliveMs: number;
  bufferBytes: number;
  /** Subscribes the stream `key` to a resource (false: not found, out of scope, not offered). */
  resources: {
    subscribe(key: string, uri: string): Promise<boolean>;
    unsubscribe(key: string, uri: string): Promise<void>;
  };
}

/** One open stream. */
export interface Listener {
  /** The key that stands for this stream where subscriptions are kept (like a session id). */
  readonly key: string;
  /** The listen request's id, as it goes on the wire. */
  readonly id: ReturnType<typeof wireId>;
  readonly principal: string;
  readonly filter: ListenFilter;
  readonly channel: SseChannel;
}

/** Reads a listen request's `notifications` filter; unknown fields are ignored. */
export function readFilter(params: JsonObject | undefined): ListenFilter {
  const raw = isJsonObject(params?.notifications) ? params.notifications : {};
  const filter: ListenFilter = {};
  for (const flag of ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const) {
    if (raw[flag] === true) filter[flag] = true;
  }
  const uris = raw.resourceSubscriptions;
  if (Array.isArray(uris)) {
    filter.resourceSubscriptions = [
      ...new Set(uris.filter((uri): uri is string => typeof uri === "string")),
    ];
  }
  return filter;
}

/** The open streams of this replica. */
export class Listeners {
  readonly #streams = new Map<string, Listener>();
  /** Streams open or opening (a stream counts from its request on, while it subscribes). */
  readonly #perPrincipal = new Map<string, number>();
  #taken = 0;
  readonly #max: number;
  readonly #maxPerPrincipal: number;

  constructor(limits: { max: number; maxPerPrincipal: number }) {
    this.#max = limits.max;
    this.#maxPerPrincipal = limits.maxPerPrincipal;
  }

  /** Number of open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** Whether `principal` may open one more stream. */
  hasRoom(principal: string): boolean {
    return this.#taken < this.#max &&
      (this.#perPrincipal.get(principal) ?? 0) < this.#maxPerPrincipal;
  }

  /**
   * Registers a stream and acknowledges it with the filter the gateway honours (its first
   * message). The caller calls {@link forget} when the channel closes.
   */
  open(
    key: string,
    id: ReturnType<typeof wireId>,
    principal: string,
    honored: ListenFilter,
    channel: SseChannel,
  ): Listener {
    this.#take(principal);
    return this.#register(key, id, principal, honored, channel);
  }

  #register(
    key: string,
    id: ReturnType<typeof wireId>,
    principal: string,
    honored: ListenFilter,
    channel: SseChannel,
  ): Listener {
    const listener: Listener = {
      key,
      id,
      principal,
      filter: honored,
      channel,
    };
    this.#streams.set(listener.key, listener);
    channel.send(JSON.stringify({
      jsonrpc: "2.0",
      method: "notifications/subscriptions/acknowledged",
      params: {
        _meta: { [META.subscriptionId]: id as JsonObject[string] },
        notifications: honored as JsonObject,
      },
    }));
    return listener;
  }

  /**
   * Serves a `subscriptions/listen` request: an SSE stream acknowledged with the part of the
   * filter the gateway honours (list kinds it offers, resources the caller could subscribe to),
   * or -32603 past the caller's stream cap (-32602 past {@link MAX_SUBSCRIPTIONS} resources). The
   * stream's resource subscriptions end with it.
   */
  async serve(
    id: ReturnType<typeof wireId>,
    principal: string,
    params: unknown,
    options: ServeOptions,
  ): Promise<Response> {
    if (!this.hasRoom(principal)) {
      return rpcErrorResponse(
        200,
        id,
        ErrorCode.InternalError,
        "Too many open subscriptions/listen streams for this client",
      );
    }
    const requested = readFilter(isJsonObject(params) ? params : undefined);
    const asked = requested.resourceSubscriptions?.length ?? 0;
    if (asked > MAX_SUBSCRIPTIONS) {
      return rpcErrorResponse(
        200,
        id,
        ErrorCode.InvalidParams,
        `Invalid params: notifications.resourceSubscriptions names ${asked} resources; ` +
          `a stream may subscribe to at most ${MAX_SUBSCRIPTIONS}`,
      );
    }
    // The slot is taken before the first await: streams opened at once cannot all pass the cap.
    this.#take(principal);
    const { offered, resources } = options;
    const key = `listen:${crypto.randomUUID()}`;
    const subscribed: string[] = [];
    try {
      for (const uri of requested.resourceSubscriptions ?? []) {
        if (await resources.subscribe(key, uri)) subscribed.push(uri);
      }
    } catch (error) {
      this.#release(principal);
      throw error;
    }
    const honored: ListenFilter = {
      ...(requested.toolsListChanged ? { toolsListChanged: true } : {}),
      ...(requested.promptsListChanged && offered.prompts ? { promptsListChanged: true } : {}),
      ...(requested.resourcesListChanged && offered.resources
        ? { resourcesListChanged: true }
        : {}),
      ...(requested.resourceSubscriptions ? { resourceSubscriptions: subscribed } : {}),
    };
    const channel = new SseChannel({
      keepAliveMs: options.keepAliveMs,
      bufferBytes: options.bufferBytes,
      onClose: () => {
        this.forget(listener);
        for (const uri of subscribed) resources.unsubscribe(key, uri).catch(() => {});
      },
    });
    const listener = this.#register(key, id, principal, honored, channel);
    return new Response(channel.body, { headers: SSE_HEADERS });
  }

  /** Forgets a stream that ended. */
  forget(listener: Listener): void {
    if (this.#streams.delete(listener.key)) this.#release(listener.principal);
  }

  #take(principal: string): void {
    this.#taken++;
    this.#perPrincipal.set(principal, (this.#perPrincipal.get(principal) ?? 0) + 1);
  }

  #release(principal: string): void {
    this.#taken--;
    const left = (this.#perPrincipal.get(principal) ?? 1) - 1;
    if (left === 0) this.#perPrincipal.delete(principal);
    else this.#perPrincipal.set(principal, left);
  }

  /** Tells every stream that opted in that a list changed. */
  listChanged(kind: ListKind): void {
    const flag = FLAG_OF[kind];
    for (const listener of this.#streams.values()) {
      if (listener.filter[flag] !== true) continue;
      send(listener, `notifications/${kind}/list_changed`, {});
    }
  }

  /** Delivers a resource update to the stream with key `key`, if it subscribed to that URI. */
  resourceUpdated(key: string, params: JsonObject): void {
    const listener = this.#streams.get(key);
    const uri = params.uri;
    if (!listener || typeof uri !== "string") return;
    if (!listener.filter.resourceSubscriptions?.includes(uri)) return;
    send(listener, "notifications/resources/updated", params);
  }

  /** Whether a key names one of these streams (and not a session). */
  has(key: string): boolean {
    return this.#streams.has(key);
  }

  /** Ends every stream with its graceful `complete` result (shutdown). */
  closeAll(): void {
    for (const listener of [...this.#streams.values()]) {
      listener.channel.send(JSON.stringify({
        jsonrpc: "2.0",
        id: listener.id,
        result: { resultType: "complete", _meta: { [META.subscriptionId]: listener.id } },
      }));
      listener.channel.close();
      this.forget(listener);
    }
  }
}

function send(listener: Listener, method: string, params: JsonObject): void {
  const meta = isJsonObject(params._meta) ? params._meta : {};
  listener.channel.send(JSON.stringify({
    jsonrpc: "2.0",
    method,
    params: { ...params, _meta: { ...meta, [META.subscriptionId]: listener.id } },
  }));
}
