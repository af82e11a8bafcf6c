/**
 * Which replica holds the upstream instances of a caller (a 2025 session, or the principal of
 * 2026-07-28 requests): the first replica that needs one claims the caller in the store; every
 * replica keeps what it learned (a claim, a takeover announced on the bus) so that a call pays a
 * round trip only the first time. Also which requests need that replica at all: those routed to
 * a server with `session: per_client` or `sharing: per_session`.
 */
import type { UpstreamDirectory } from "../core/context.ts";
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import type { Route } from "../upstream/catalog.ts";
import type { Cluster } from "./cluster.ts";

/** How many callers' owners a replica remembers (the oldest are forgotten first). */
const MAX_KNOWN = 100_000;

/** The server a message needs a caller's own instance of, if any. */
export function instanceServer(
  upstreams: UpstreamDirectory,
  method: string,
  params: unknown,
): string | undefined {
  const p: JsonObject = isJsonObject(params) ? params : {};
  const perSession = (route: Route | undefined) =>
    route !== undefined && upstreams.supervisor(route.server)?.perSession === true
      ? route.server
      : undefined;
  const catalog = upstreams.catalog();
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  switch (method) {
    case "tools/call": {
      // In meta-tool mode the upstream tool is the argument of gateway_invoke.
      const args = isJsonObject(p.arguments) ? p.arguments : {};
      const name = p.name === "gateway_invoke" ? args.name : p.name;
      return perSession(catalog.tool(text(name)));
    }
    case "prompts/get":
      return perSession(catalog.prompt(text(p.name)));
    case "resources/read":
    case "resources/subscribe":
    case "resources/unsubscribe":
      return perSession(catalog.resource(text(p.uri)));
    case "completion/complete": {
      const ref = isJsonObject(p.ref) ? p.ref : {};
      return ref.type === "ref/prompt"
        ? perSession(catalog.prompt(text(ref.name)))
        : perSession(catalog.resource(text(ref.uri)));
    }
    case "logging/setLevel":
    case "notifications/roots/list_changed":
      return upstreams.supervisors().find((s) => s.perSession)?.name;
    default:
      return undefined;
  }
}

/** The owners of callers' upstream instances, as this replica knows them. */
export class Owners {
  readonly #cluster: Cluster;
  readonly #ttlMs: number;
  readonly #known = new Map<string, string>();
  /** Callers this replica holds that were served since the last {@link Owners.renew}. */
  readonly #used = new Set<string>();

  /** `moved` is told of callers whose instances another replica took over from this one. */
  constructor(cluster: Cluster, ttlMs: number, moved: (key: string) => void) {
    this.#cluster = cluster;
    this.#ttlMs = ttlMs;
    cluster.onBus("own", ({ k, n }) => {
      if (typeof k !== "string" || typeof n !== "string") return;
      if (this.#known.get(k) === cluster.node && n !== cluster.node) moved(k);
      this.#learn(k, n);
    });
    cluster.onBus("end", ({ s }) => {
      if (typeof s === "string") this.#known.delete(s);
    });
  }

  /** The replica holding `key`'s instances: known at once, or claimed for this replica if free. */
  ownerOf(key: string): string | Promise<string> {
    const known = this.#known.get(key);
    if (known === this.#cluster.node) this.#used.add(key);
    if (known !== undefined) return known;
    return this.#claim(key, "");
  }

  /** Keeps the claims on the callers served here since the last renewal (one round trip). */
  async renew(): Promise<void> {
    if (this.#used.size === 0) return;
    const keys = [...this.#used];
    this.#used.clear();
    const prefix = this.#cluster.prefix;
    await this.#cluster.command("keep the claims on upstream instances", (redis) => {
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.pexpire(`${prefix}own:${key}`, this.#ttlMs);
      return pipeline.exec();
    }, "renew");
  }

  /** Takes `key` over from `gone` (a replica that cannot be reached); returns the new owner. */
  takeOver(key: string, gone: string): Promise<string> {
    return this.#claim(key, gone);
  }

  async #claim(key: string, expected: string): Promise<string> {
    const owner = String(
      await this.#cluster.run("claim", [key, this.#cluster.node, this.#ttlMs, expected]),
    );
    this.#learn(key, owner);
    return owner;
  }

  #learn(key: string, owner: string): void {
    this.#known.delete(key);
    this.#known.set(key, owner);
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.keys().next().value!);
  }
}
