/**
 * The upstream servers of the running config: a supervisor per server, the catalog merged from
 * their lists, and what a reload does to them (servers added, removed, restarted or updated).
 */
import type { ConfigDiff, ServerConfig } from "./config/mod.ts";
import type { UpstreamDirectory } from "./core/context.ts";
import type { Logger } from "./log.ts";
import { createServerSupervisor, type ServerContext } from "./servers.ts";
import { Catalog } from "./upstream/catalog.ts";
import type { Clock } from "./upstream/clock.ts";
import type { UpstreamLists } from "./upstream/lists.ts";
import type { Supervisor } from "./upstream/supervisor.ts";

const CIRCUIT_VALUES = { closed: 0, open: 1, half_open: 2 } as const;

/** One server of the running config and its supervisor's run. */
export interface RunningServer {
  config: ServerConfig;
  supervisor: Supervisor;
  stop: AbortController;
  done: Promise<void>;
}

/** Options of {@link UpstreamSet}. */
export interface UpstreamSetOptions {
  /** What every supervisor gets, but the catalog's change callback (the set owns it). */
  supervisorDeps: Omit<ServerContext, "onChange">;
  /** Whether tool names get their server's prefix (`namespacing: always`) now. */
  prefixed(): boolean;
  /** Told of each new catalog, with the one it replaces. */
  onCatalog(previous: Catalog, next: Catalog): void;
  log: Logger;
  /** Stops every supervisor. */
  signal: AbortSignal;
}

/** The running servers and their merged catalog. */
export class UpstreamSet implements UpstreamDirectory {
  readonly #options: UpstreamSetOptions;
  #running: RunningServer[];
  #catalog = new Catalog();

  constructor(servers: readonly ServerConfig[], options: UpstreamSetOptions) {
    this.#options = options;
    this.#running = servers.map((server) => this.#start(server));
  }

  /** The current merged catalog. */
  catalog(): Catalog {
    return this.#catalog;
  }

  /** Every supervisor, in config order. */
  supervisors(): readonly Supervisor[] {
    return this.#running.map((r) => r.supervisor);
  }

  /** The supervisor of a server. */
  supervisor(name: string): Supervisor | undefined {
    return this.#running.find((r) => r.supervisor.name === name)?.supervisor;
  }

  /** The running servers, in config order. */
  get running(): readonly RunningServer[] {
    return this.#running;
  }

  /** Settles when every supervisor has stopped. */
  done(): Promise<unknown> {
    return Promise.allSettled(this.#running.map((r) => r.done));
  }

  /**
   * Applies a reload to the servers: stops the removed and restarted ones (a restarted server
   * starts again with its old lists, stale), starts the added ones and updates the rest.
   */
  async apply(diff: ConfigDiff, servers: readonly ServerConfig[]): Promise<void> {
    const byName = new Map(this.#running.map((r) => [r.supervisor.name, r]));
    const replaced = new Set([...diff.removed, ...diff.restarted]);
    await Promise.all([...replaced].map((name) => halt(byName.get(name)!)));
    this.#running = servers.map((server) => {
      const existing = replaced.has(server.name) ? undefined : byName.get(server.name);
      if (!existing) return this.#start(server, byName.get(server.name)?.supervisor.lists);
      if (diff.updated.includes(server.name)) existing.supervisor.update(server);
      return { ...existing, config: server };
    });
  }

  /** Merges the servers' lists into a new catalog, logging names two servers expose. */
  rebuildCatalog(): void {
    const next = new Catalog(
      this.#running.map((r) => ({
        server: r.supervisor.name,
        prefixed: this.#options.prefixed() && r.config.prefix,
        rules: r.config.tools,
        ...r.supervisor.lists,
      })),
    );
    for (const conflict of next.conflicts) {
      this.#options.log.error("two upstream items expose the same name; the second is left out", {
        kind: conflict.kind,
        name: conflict.exposed,
        kept: `${conflict.kept.server}/${conflict.kept.name}`,
        dropped: `${conflict.dropped.server}/${conflict.dropped.name}`,
      });
    }
    const previous = this.#catalog;
    this.#catalog = next;
    this.#options.onCatalog(previous, next);
  }

  /** Resolves once every `required` server is connected; rejects naming the first that could not. */
  async ready(): Promise<void> {
    await Promise.all(
      this.#running.filter((r) => r.config.required).map(({ config: server, supervisor }) =>
        supervisor.untilConnected(Math.max(1, server.reconnect.max_attempts)).catch((error) => {
          throw new Error(
            `Cannot start: required upstream '${server.name}' did not connect: ${error.message}`,
          );
        })
      ),
    );
  }

  /** What the metrics read of each server at scrape time. */
  snapshots(clock: Clock) {
    return this.supervisors().map((supervisor) => {
      const status = supervisor.status();
      return {
        server: supervisor.name,
        connected: status.connected,
        tools: status.toolsCount,
        reconnects: status.reconnects,
        lastSeenSecondsAgo: status.lastSeen === undefined
          ? undefined
          : (clock.now() - status.lastSeen) / 1000,
        inBackoff: status.backoffMs > 0,
        currentBackoffSeconds: status.backoffMs / 1000,
        instances: status.instances,
        circuit: CIRCUIT_VALUES[supervisor.circuit],
      };
    });
  }

  #start(server: ServerConfig, lists?: UpstreamLists): RunningServer {
    const supervisor = createServerSupervisor(server, {
      ...this.#options.supervisorDeps,
      onChange: () => this.rebuildCatalog(),
    }, lists);
    const own = new AbortController();
    const signal = AbortSignal.any([this.#options.signal, own.signal]);
    return { config: server, supervisor, stop: own, done: supervisor.run(signal) };
  }
}

async function halt(entry: RunningServer): Promise<void> {
  entry.stop.abort();
  await entry.done;
}
