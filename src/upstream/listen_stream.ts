/**
 * The gateway's `subscriptions/listen` stream to a 2026-07-28 upstream (which has no GET stream
 * and no `resources/subscribe`): list changes of every kind, plus updates of the resources
 * clients subscribed to. The filter of a stream is fixed, so a changed set of resources opens a
 * new stream and ends the old one; a stream that breaks is opened again after a pause. The
 * subscriptions outlive a connection: the next one's stream asks for them again.
 */
import type { JsonObject } from "../mcp/jsonrpc.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";
import type { UpstreamClient } from "./supervisor.ts";

/** Options of {@link UpstreamListen}. */
export interface UpstreamListenOptions {
  clock: Clock;
  log: Logger;
  /** Pause before a broken stream is opened again. */
  retryMs: number;
  /** The resources (upstream URIs) whose updates clients subscribed to. */
  resources(): readonly string[];
}

/** How long a new stream's acknowledgement is waited for before the old stream ends anyway. */
const ACK_WAIT_MS = 5000;

/** Keeps one listen stream open on a modern upstream client. */
export class UpstreamListen {
  readonly #client: UpstreamClient;
  readonly #options: UpstreamListenOptions;
  #current: AbortController | undefined;
  #stopped = false;

  constructor(client: UpstreamClient, options: UpstreamListenOptions) {
    this.#client = client;
    this.#options = options;
  }

  /**
   * Opens the stream, or a new one with the current resources; resolves once the upstream
   * acknowledged it (or after a few seconds, if it does not). It stays open until {@link stop}.
   */
  async refresh(): Promise<void> {
    if (this.#stopped) return;
    const previous = this.#current;
    const controller = this.#current = new AbortController();
    const acknowledged = Promise.withResolvers<void>();
    this.#run(controller.signal, acknowledged.resolve);
    const waited = new AbortController();
    try {
      await Promise.race([
        acknowledged.promise,
        this.#options.clock.sleep(ACK_WAIT_MS, waited.signal).catch(() => {}),
      ]);
    } finally {
      waited.abort();
      previous?.abort();
    }
  }

  /** Ends the stream for good. */
  stop(): void {
    this.#stopped = true;
    this.#current?.abort();
  }

  async #run(signal: AbortSignal, onAcknowledged: () => void): Promise<void> {
    while (!signal.aborted) {
      const notifications: JsonObject = {
        toolsListChanged: true,
        promptsListChanged: true,
        resourcesListChanged: true,
      };
      const resources = this.#options.resources();
      if (resources.length > 0) notifications.resourceSubscriptions = [...resources];
      try {
        // Its changes reach the supervisor through the client's shared handler; only the
        // acknowledgement comes here.
        await this.#client.request("subscriptions/listen", { notifications }, {
          timeoutMs: 0,
          signal,
          onNotification: (notification) => {
            if (notification.method === "notifications/subscriptions/acknowledged") {
              onAcknowledged();
            }
          },
        });
      } catch (error) {
        if (signal.aborted) return;
        this.#options.log.debug("upstream listen stream ended", { error });
      }
      await this.#options.clock.sleep(this.#options.retryMs, signal).catch(() => {});
    }
  }
}

/** The resources clients subscribed to on a 2026-07-28 upstream, and its current listen stream. */
export class ListenSubscriptions {
  readonly #options: Pick<UpstreamListenOptions, "clock" | "log">;
  readonly #watched = new Set<string>();
  #listen: UpstreamListen | undefined;

  constructor(options: Pick<UpstreamListenOptions, "clock" | "log">) {
    this.#options = options;
  }

  /** Opens the listen stream of a newly connected client. */
  start(client: UpstreamClient): void {
    this.#listen = new UpstreamListen(client, {
      clock: this.#options.clock,
      log: this.#options.log,
      retryMs: 1000,
      resources: () => [...this.#watched],
    });
    void this.#listen.refresh();
  }

  /** Ends the listen stream of a connection that ended; the subscriptions stay. */
  stop(): void {
    this.#listen?.stop();
    this.#listen = undefined;
  }

  /**
   * Subscribes to a resource (or ends the subscription), standing in for `resources/subscribe`
   * and `resources/unsubscribe`: from now on, the listen stream asks for its updates.
   */
  async change(uri: unknown, wanted: boolean): Promise<JsonObject> {
    if (typeof uri !== "string") return {};
    const known = this.#watched.has(uri);
    if (wanted === known) return {};
    if (wanted) this.#watched.add(uri);
    else this.#watched.delete(uri);
    // Answered once the new filter is in force, so no update after the answer is lost.
    await this.#listen?.refresh();
    return {};
  }
}
