/**
 * The state area: what outlives a request. In one process it is the in-memory state of the
 * downstream adapters; with `cluster.redis_url` set, this module joins the cluster and hands the
 * gateway the parts that share state through the store (session records and outboxes, rate-limit
 * buckets, the owners of per-session upstream instances, forwarding between replicas).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics/registry.ts";
import type { SessionStore } from "../downstream/sessions.ts";
import type { Clock } from "../upstream/clock.ts";
import type { RequestStateCodec } from "../core/request_state.ts";
import type { ClientLimits } from "../downstream/client_limits.ts";
import { deliverNotification, type RelayTargets } from "../downstream/relay.ts";
import { isJsonObject, type JsonRpcNotification } from "../mcp/jsonrpc.ts";
import type { UpstreamDirectory } from "../core/context.ts";
import { isUnspecifiedHost } from "../http/origin.ts";
import { Cluster } from "./cluster.ts";
import { Forwarder } from "./forwarding.ts";
import { SharedSessions } from "./shared_sessions.ts";

export type { Forwarder } from "./forwarding.ts";

/** What the gateway needs to build a cluster replica. */
export interface ClusterDeps {
  config: Config;
  /** Hides the config's secrets. */
  redact(text: string): string;
  sessions(): SessionStore;
  upstreams: UpstreamDirectory;
  /** The replica named in a requestState of this cluster. */
  nodeOf(state: unknown): string | undefined;
  version: string;
  log: Logger;
  clock: Clock;
  registry: Registry;
}

/** A replica's part of the cluster. */
export interface ClusterState {
  cluster: Cluster;
  sharing: SharedSessions;
  forwarder: Forwarder;
  /** Host names other replicas reach this one by (the Host guard lets them in). */
  hosts: string[];
  /** Tells the cluster where this replica listens (the default forwarding address). */
  listening(address: { hostname: string; port: number }): void;
  /**
   * Shares what else outlives a request: rate-limit buckets, the key of 2026-07-28 request
   * states, and what shared upstreams say outside calls (relayed once by every replica).
   */
  share(parts: { relay: RelayTargets; clientLimits: ClientLimits; codec: RequestStateCodec }): void;
  /** A reload changed this replica's config: the others see its new digest. */
  configChanged(config: Config): void;
  /** Connects and runs the loops until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
}

/** Joins the cluster of `deps.config.cluster` (which must be set). */
export function createClusterState(deps: ClusterDeps): ClusterState {
  const settings = deps.config.cluster!;
  let listen = `http://${advertisedHost(deps.config.host)}:${deps.config.port}`;
  const cluster = new Cluster({
    redisUrl: settings.redis_url,
    prefix: settings.key_prefix,
    url: () => settings.advertise_url ?? listen,
    configDigest: configDigest(deps.config, deps.redact),
    version: deps.version,
    log: deps.log,
    clock: deps.clock,
    registry: deps.registry,
  });
  const { session } = deps.config.mcp;
  const sharing = new SharedSessions({
    cluster,
    sessions: deps.sessions,
    idleTtlMs: session.idle_ttl_seconds * 1000,
    unusedTtlMs: session.unused_ttl_seconds * 1000,
    gcIntervalMs: session.gc_interval_seconds * 1000,
    clock: deps.clock,
    log: deps.log,
  });
  const forwarder = new Forwarder({
    cluster,
    upstreams: deps.upstreams,
    ownerTtlMs: session.idle_ttl_seconds * 1000,
    nodeOf: deps.nodeOf,
    log: deps.log,
  });
  const advertised = settings.advertise_url ?? listen;
  return {
    cluster,
    sharing,
    forwarder,
    hosts: [new URL(advertised).hostname.replace(/^\[|\]$/g, "")],
    listening({ hostname, port }) {
      listen = `http://${advertisedHost(hostname)}:${port}`;
      cluster.announce();
    },
    async start(signal) {
      await cluster.start(signal);
      await Promise.all([sharing.run(signal), forwarder.run(deps.clock, signal)]);
    },
    share({ relay, clientLimits, codec }) {
      clientLimits.share(async (key, policy) => {
        const burst = Math.max(1, policy.burst || Math.ceil(policy.requests_per_second));
        return Number(await cluster.run("take", [key, policy.requests_per_second, burst]));
      });
      cluster.onKeys((keys) => codec.useKey(keys.requestState));
      relay.share = (server, n) =>
        cluster.publish({ t: "relay", server, n, once: crypto.randomUUID() });
      cluster.onBus("relay", ({ server, n, once }) => {
        if (typeof server !== "string" || typeof once !== "string") return;
        if (!isJsonObject(n) || typeof n.method !== "string") return;
        deliverNotification(relay, server, n as unknown as JsonRpcNotification, undefined, once);
      });
    },
    configChanged(config) {
      cluster.configDigest = configDigest(config, deps.redact);
    },
  };
}

/**
 * The digest replicas compare to find one started from another config: the whole config but
 * what differs between replicas by design (listen address, logging, advertise_url), with every
 * secret hidden before hashing.
 */
export function configDigest(config: Config, redact: (text: string) => string): string {
  const { host: _, port: __, logging: ___, secret_env: ____, ...shared } = config;
  const cluster = shared.cluster && { key_prefix: shared.cluster.key_prefix };
  const text = redact(JSON.stringify({ ...shared, cluster }));
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** A listen address others can reach: a wildcard address is replaced by the host name. */
function advertisedHost(hostname: string): string {
  if (isUnspecifiedHost(hostname)) return Deno.hostname();
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
