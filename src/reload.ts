/**
 * Reloading the config (SIGHUP, `POST /-/reload`, `--watch`): one reload at a time; a file that
 * does not load, or that would expose the gateway without auth, keeps the running config; what
 * reloaded is counted, logged and answered as a summary.
 */
import { type Config, type ConfigDiff, diffConfigs } from "./config/mod.ts";
import { remoteExposure } from "./http/origin.ts";
import type { Logger } from "./log.ts";
import type { GatewayMetrics } from "./metrics/mod.ts";
import type { Clock } from "./upstream/clock.ts";

/** What a reload did, as answered by `POST /-/reload` (counts, like mcpstead 0.1, and names). */
export interface ReloadSummary {
  added: number;
  removed: number;
  restarted: number;
  updated: number;
  unchanged: number;
  servers: Omit<ConfigDiff, "restartRequired">;
  /** Changed keys that need a gateway restart to take effect. */
  restart_required: string[];
}

/** Options of {@link Reloader}. */
export interface ReloaderOptions {
  /** Reads the config file again; absent when the gateway was not started from one. */
  load?(): Promise<Config>;
  /** The running config. */
  current(): Config;
  /** Makes `next` the running config; `diff` says what changed. */
  apply(next: Config, diff: ConfigDiff): Promise<void>;
  metrics: GatewayMetrics;
  clock: Clock;
  log: Logger;
}

/** Runs reloads one after the other. */
export class Reloader {
  readonly #options: ReloaderOptions;
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: ReloaderOptions) {
    this.#options = options;
  }

  /** Loads the config again and applies what changed; rejects (keeping everything) on a bad file. */
  reload(): Promise<ReloadSummary> {
    const run = this.#last.then(() => this.#reload());
    this.#last = run.catch(() => {});
    return run;
  }

  async #reload(): Promise<ReloadSummary> {
    const { load, metrics, log } = this.#options;
    if (!load) throw new Error("Cannot reload: the gateway was not started from a config file");
    let next: Config;
    try {
      next = await load();
    } catch (error) {
      metrics.reloads.inc({ result: "error" });
      log.error("config reload failed; keeping the running config", { error });
      throw error;
    }
    const current = this.#options.current();
    const exposure = remoteExposure(current.host, next.mcp);
    if (exposure?.level === "error") {
      metrics.reloads.inc({ result: "error" });
      log.error("config reload refused; keeping the running config", { reason: exposure.message });
      throw new Error(`Cannot reload: ${exposure.message}`);
    }
    const diff = diffConfigs(current, next);
    await this.#options.apply(keptOnReload(current, next), diff);
    metrics.reloads.inc({ result: "success" });
    metrics.lastReload.set(this.#options.clock.now() / 1000);
    const { restartRequired, ...servers } = diff;
    log.info("config reloaded", { ...servers, restart_required: restartRequired });
    if (restartRequired.length > 0) {
      log.warn("changed keys take effect only after a restart", { keys: restartRequired });
    }
    return {
      added: diff.added.length,
      removed: diff.removed.length,
      restarted: diff.restarted.length,
      updated: diff.updated.length,
      unchanged: diff.unchanged.length,
      servers,
      restart_required: restartRequired,
    };
  }
}

/**
 * The config a reload runs: the new file, but what only a restart changes (the listen address,
 * logging, the cluster, session timing) stays as it is.
 */
export function keptOnReload(current: Config, next: Config): Config {
  const { cluster: _restartOnly, ...rest } = next;
  return {
    ...rest,
    host: current.host,
    port: current.port,
    logging: current.logging,
    ...(current.cluster ? { cluster: current.cluster } : {}),
    mcp: { ...next.mcp, session: current.mcp.session },
  };
}
