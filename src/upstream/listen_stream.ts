/**
 * The gateway's `subscriptions/listen` stream to a 2026-07-28 upstream (which has no GET stream
 * and no `resources/subscribe`): list changes of every kind, plus updates of the resources
 * clients subscribed to. The filter of a stream is fixed, so a changed set of resources opens a
 * new stream and ends the old one; a stream that breaks is opened again after a pause.
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

  /** Opens the stream, or a new one with the current resources; it stays open until {@link stop}. */
  refresh(): void {
    this.#reopen();
  }

  /** Ends the stream for good. */
  stop(): void {
    this.#stopped = true;
    this.#current?.abort();
  }

  #reopen(): void {
    if (this.#stopped) return;
    this.#current?.abort();
    const controller = this.#current = new AbortController();
    this.#run(controller.signal);
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const notifications: JsonObject = {
        toolsListChanged: true,
        promptsListChanged: true,
        resourcesListChanged: true,
      };
      const resources = this.#options.resources();
      if (resources.length > 0) notifications.resourceSubscriptions = [...resources];
      try {
        // Its notifications reach the supervisor through the client's shared handler.
        await this.#client.request("subscriptions/listen", { notifications }, {
          timeoutMs: 0,
          signal,
        });
      } catch (error) {
        if (signal.aborted) return;
        this.#options.log.debug("upstream listen stream ended", { error });
      }
      await this.#options.clock.sleep(this.#options.retryMs, signal).catch(() => {});
    }
  }
}
