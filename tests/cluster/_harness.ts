/**
 * The cluster test harness: a real `redis-server` on a free loopback port with persistence off,
 * N gateway replicas started from one config (in this process, or as child processes for the
 * tests that kill one), and a `fetch` that sends each request to the next replica in turn (round
 * robin per request, the strictest load balancer), for SDK clients and raw requests alike.
 *
 * @module
 */
import { initialize, PROTOCOL_VERSION } from "../_support/client.ts";
import { type GatewayProcess, serveGateway } from "../_support/process.ts";
import { type RunningGateway, startGateway } from "../_support/gateway.ts";
import { type RunningTool, startTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A redis-server on loopback; `restart()` stops it and starts it again on the same port. */
export interface RedisServer extends AsyncDisposable {
  port: number;
  url: string;
  /** Stops the server (SIGKILL: nothing is saved, persistence is off anyway). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, unless it keeps its data). */
  start(): Promise<void>;
}

/**
 * Starts `redis-server` (its path from requireTool) on a free port, empty and without
 * persistence; with `keep`, every write is saved at once in that directory (an append-only
 * file), so a restart keeps the data.
 */
export async function startRedis(path: string, keep?: string): Promise<RedisServer> {
  const port = freePort();
  let running: RunningTool | undefined;
  const persistence = keep === undefined
    ? ["--appendonly", "no"]
    : ["--appendonly", "yes", "--appendfsync", "always", "--dir", keep];
  const start = async () => {
    running = await startTool(path, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      ...persistence,
      "--protected-mode",
      "no",
    ], /Ready to accept connections/);
  };
  const stop = async () => {
    await running?.[Symbol.asyncDispose]();
    running = undefined;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    start,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The `cluster:` section of a replica config, with a key prefix of its own per test. */
export function clusterYaml(redis: RedisServer, prefix = `t${crypto.randomUUID().slice(0, 8)}:`) {
  return `cluster:\n  redis_url: "${redis.url}"\n  key_prefix: "${prefix}"\n`;
}

/** Replicas running in this process. */
export interface Replicas extends AsyncDisposable {
  gateways: RunningGateway[];
  /** `/mcp` of each replica. */
  urls: string[];
  /** A fetch that sends each request to the next replica's /mcp, whatever URL it is given. */
  roundRobin: typeof fetch;
  /** The index of the replica the last round-robin request went to. */
  last(): number;
}

/** Starts `count` replicas of `yaml` (which holds the cluster section) in this process. */
export async function startReplicas(yaml: string, count = 3): Promise<Replicas> {
  const gateways: RunningGateway[] = [];
  try {
    for (let i = 0; i < count; i++) gateways.push(await startGateway(yaml));
    // Every replica sees every other at the address it listens on.
    const bases = gateways.map((g) => g.base).sort().join(" ");
    const seen = (g: RunningGateway) =>
      (g.gateway.health().cluster?.replicas as Array<{ url: string }>).map((r) => r.url).sort()
        .join(" ");
    await waitFor(
      () => gateways.every((g) => seen(g) === bases),
      "every replica to see the others",
    );
  } catch (error) {
    await Promise.all(gateways.map((g) => g.close()));
    throw error;
  }
  const urls = gateways.map((g) => g.url);
  const robin = roundRobinFetch(urls);
  return {
    gateways,
    urls,
    roundRobin: robin.fetch,
    last: robin.last,
    [Symbol.asyncDispose]: async () => void (await Promise.all(gateways.map((g) => g.close()))),
  };
}

/** A fetch sending request N to `urls[N % urls.length]` (path and query kept from `urls`). */
export function roundRobinFetch(urls: readonly string[]): { fetch: typeof fetch; last(): number } {
  let next = 0;
  let last = 0;
  const robin: typeof fetch = (input, init) => {
    last = next++ % urls.length;
    const request = new Request(input, init);
    return fetch(new Request(urls[last]!, request));
  };
  return { fetch: robin, last: () => last };
}

/** Replicas running as child processes of `main.ts` (so one can be SIGKILLed). */
export interface ReplicaProcesses extends AsyncDisposable {
  processes: GatewayProcess[];
  urls: string[];
}

/** Starts `count` replica processes from the config file `path`, each on its own free port. */
export async function spawnReplicas(yaml: string, count = 3): Promise<ReplicaProcesses> {
  const processes: GatewayProcess[] = [];
  const dir = await Deno.makeTempDir({ prefix: "mcpstead-cluster-" });
  try {
    for (let i = 0; i < count; i++) {
      const path = `${dir}/replica-${i}.yaml`;
      await Deno.writeTextFile(path, `port: ${freePort()}\n${yaml}`);
      processes.push(await serveGateway(MAIN, ["--config", path]));
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    throw error;
  }
  const urls = processes.map((p) => `http://${p.address}/mcp`);
  return {
    processes,
    urls,
    [Symbol.asyncDispose]: async () => {
      await Promise.all(processes.map((p) => p.stop("SIGKILL")));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The headers of a new 2025 session opened on `url`. */
export async function sessionHeaders(url: string): Promise<Record<string, string>> {
  const { sessionId } = await initialize(url);
  return { "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION };
}
