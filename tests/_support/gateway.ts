/**
 * Runs a gateway from a YAML config on a real socket (127.0.0.1, a free port) for end-to-end tests.
 *
 * @module
 */
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway, type Gateway, type GatewayDeps } from "../../src/gateway.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import { serveHttp, serverLimits } from "../../src/http/server.ts";
import type { Clock } from "../../src/upstream/clock.ts";
import { type HttpFixture, startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "./client.ts";
import { waitFor } from "./wait.ts";

/** A gateway serving on a socket. */
export interface RunningGateway extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
  gateway: Gateway;
  /** Replaces the config text that the next reload reads. */
  rewrite(yaml: string): void;
  close(): Promise<void>;
}

/**
 * Parses `yaml` (with `env` for `${VAR}` and `token_env`), starts the gateway (logging to `log`,
 * by default nowhere; `deps` replace other seams) and waits until it is ready. `rewrite()`
 * changes the text the next reload reads; `env` may be changed in place.
 */
export async function startGateway(
  yaml: string,
  env: Record<string, string> = {},
  log: Logger = silentLogger,
  deps: Partial<GatewayDeps> = {},
): Promise<RunningGateway> {
  let text = yaml;
  const load = () => parseConfig(text, "test.yaml", (name) => env[name]);
  const gateway = createGateway(load(), {
    ...deps,
    version: "test",
    log,
    loadConfig: () => Promise.resolve(load()),
    ...deps,
  });
  await gateway.ready();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = serveHttp(listener, gateway.handler, {
    limits: serverLimits(load().mcp.limits),
    log,
  });
  gateway.listening(server.addr);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const close = async () => {
    await gateway.dispose();
    await server.shutdown();
  };
  return {
    url: `${base}/mcp`,
    base,
    gateway,
    rewrite: (next) => void (text = next),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A YAML servers list entry for an upstream URL. */
export function upstream(name: string, url: string, extra = ""): string {
  return `  - name: ${name}\n    url: ${url}\n${extra}`;
}

/** A gateway in front of two SDK fixture servers, `a` and `b`. */
export interface TwoUpstreams extends AsyncDisposable {
  a: HttpFixture;
  b: HttpFixture;
  gw: RunningGateway;
}

/**
 * Starts the fixtures `a` and `b` and a gateway over them (logging to `log`). `head` is YAML put
 * before `servers:`, `aExtra` is added to a's entry, `env` serves `${VAR}` and `*_env`. Resolves once both are
 * connected and `until` holds (by default: the tools of both are listed).
 */
export async function gatewayOverTwo(
  options: {
    head?: string;
    aExtra?: string;
    env?: Record<string, string>;
    until?: (gateway: Gateway) => boolean;
    log?: Logger;
  } = {},
): Promise<TwoUpstreams> {
  const a = await startHttpFixture({ name: "a" });
  const b = await startHttpFixture({ name: "b" });
  const gw = await startGateway(
    `${options.head ?? ""}servers:\n${upstream("a", a.url, options.aExtra)}${upstream("b", b.url)}`,
    options.env,
    options.log,
  );
  const until = options.until ?? ((gateway: Gateway) => gateway.catalog().size > 20);
  await waitFor(() => gw.gateway.health().status === "ok" && until(gw.gateway));
  return {
    a,
    b,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await a.close();
      await b.close();
    },
  };
}

/**
 * Waits until `GET /health` (the wire, not the gateway object) reports every upstream connected
 * with its tools listed.
 */
export async function untilHealthy(gw: RunningGateway): Promise<void> {
  await waitFor(async () => {
    const health = await (await fetch(`${gw.base}/health`)).json();
    return health.servers.every((s: { connected: boolean; tools_count: number }) =>
      s.connected && s.tools_count > 0
    );
  }, "every upstream connected in /health");
}

/** What `GET /health` answers, as JSON. */
export async function healthOf(gw: RunningGateway): Promise<{
  status: string;
  servers: Array<Record<string, unknown> & { name: string }>;
}> {
  return await (await fetch(`${gw.base}/health`)).json();
}

/** Every tool name the gateway lists to a client, all pages followed. */
export async function listedToolNames(gw: RunningGateway): Promise<string[]> {
  await using client = await connectClient(gw.url);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return names;
}

/** Options of {@linkcode gatewayInFront}. */
export interface InFrontOptions {
  /** YAML added to the upstream's `servers` entry. */
  extra?: string;
  /** YAML put before `namespacing:` (an `mcp:` section). */
  head?: string;
  /** Serves `${VAR}` and `*_env`. */
  env?: Record<string, string>;
  /** Replaces the system clock. */
  clock?: Clock;
}

/**
 * Starts a gateway with `namespacing: never` (names and URIs stay the upstream's) in front of
 * the MCP server at `url`, named `up`; resolves once its tools are listed.
 */
export async function gatewayInFront(
  url: string,
  options: InFrontOptions = {},
): Promise<RunningGateway> {
  const gw = await startGateway(
    `${options.head ?? ""}namespacing: never\nservers:\n${upstream("up", url, options.extra)}`,
    options.env,
    silentLogger,
    options.clock ? { clock: options.clock } : {},
  );
  await waitFor(() => gw.gateway.catalog().tools.length > 0, `the tools of ${url}`);
  return gw;
}
