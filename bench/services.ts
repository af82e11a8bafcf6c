/**
 * The processes a benchmark runs, each started from this checkout: fast upstreams (HTTP and
 * stdio), the gateway (`main.ts` with a generated config), the load generator and the
 * `mcp-proxy` peer.
 *
 * @module
 */
import { join } from "node:path";
import { DENO, freePort, type Proc, ROOT, start, waitForPort } from "./procs.ts";
import type { Command, Result } from "./loadgen.ts";

/** A started fast upstream over Streamable HTTP. */
export interface FastUpstream {
  proc: Proc;
  url: string;
  port: number;
}

/** Options of {@linkcode startFastUpstream}. */
export interface FastUpstreamOptions {
  tools?: number;
  delayMs?: number;
  sessions?: boolean;
  /** 0 (the default) picks a free port. */
  port?: number;
  name?: string;
  /** The HTTP server it runs on: `Deno.serve` (the default) or the gateway's own. */
  server?: "deno" | "mcpstead";
}

/** Starts `bench/fast_upstream.ts` and waits for its READY line. */
export async function startFastUpstream(options: FastUpstreamOptions = {}): Promise<FastUpstream> {
  const { proc, value } = await start({
    name: options.name ?? "fast upstream",
    cmd: DENO,
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      join(ROOT, "bench/fast_upstream.ts"),
      "--port",
      String(options.port ?? 0),
      "--tools",
      String(options.tools ?? 1),
      "--delay-ms",
      String(options.delayMs ?? 0),
      "--sessions",
      String(options.sessions ?? true),
      "--server",
      options.server ?? "deno",
    ],
    ready: (line) => (line.startsWith("READY ") ? line.slice(6).trim() : undefined),
    timeoutMs: 30_000,
  });
  return { proc, url: value, port: Number(new URL(value).port) };
}

/** Starts `bench/passthrough.ts` (bare `Deno.serve` + `fetch`) in front of `upstream`. */
export async function startPassthrough(upstream: string): Promise<{ proc: Proc; url: string }> {
  const { proc, value } = await start({
    name: "pass-through",
    cmd: DENO,
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      join(ROOT, "bench/passthrough.ts"),
      "--upstream",
      upstream,
    ],
    ready: (line) => (line.startsWith("READY ") ? line.slice(6).trim() : undefined),
    timeoutMs: 30_000,
  });
  return { proc, url: value };
}

/** The command line of the fast stdio server, with a marker to find it in `/proc`. */
export function fastStdioCommand(marker: string, tools = 1): { command: string; args: string[] } {
  return {
    command: DENO,
    args: [
      "run",
      "--quiet",
      join(ROOT, "bench/fast_stdio.ts"),
      "--tools",
      String(tools),
      "--marker",
      marker,
    ],
  };
}

/** A started gateway. */
export interface GatewayProc {
  proc: Proc;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `<base>/mcp` */
  url: string;
  /** Milliseconds from spawn to the "mcpstead listening" log line. */
  listeningMs: number;
  /** Wall time (performance.now()) just before spawn. */
  spawnedAt: number;
}

/** Options of {@linkcode startGateway}. */
export interface GatewayOptions {
  /** Write a V8 CPU profile into this directory on exit (`--cpu-prof-dir`). */
  cpuProfDir?: string;
  /** The entry module; `main.ts` by default (e.g. `dist/mcpstead.js` for the bundle). */
  entry?: string;
  /** Another checkout to run the gateway from (its `main.ts`, its deno.json); this one by default. */
  root?: string;
  /** Extra `deno run` flags, e.g. `--v8-flags=--max-semi-space-size=2`. */
  denoFlags?: string[];
  name?: string;
}

/** Writes `yaml` to a temporary file and runs the gateway on it until it logs "mcpstead listening". */
export async function startGateway(
  yaml: string,
  options: GatewayOptions = {},
): Promise<GatewayProc> {
  const config = await Deno.makeTempFile({ prefix: "mcpstead-bench-", suffix: ".yaml" });
  await Deno.writeTextFile(config, yaml);
  const spawnedAt = performance.now();
  const { proc, value, ms } = await start({
    name: options.name ?? "gateway",
    cmd: DENO,
    args: [
      "run",
      "--allow-all",
      ...(options.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfDir] : []),
      ...(options.denoFlags ?? []),
      join(options.root ?? ROOT, options.entry ?? "main.ts"),
      "--config",
      config,
      "--log-format",
      "json",
    ],
    ...(options.root ? { cwd: options.root } : {}),
    ready: (line, stream) => {
      if (stream !== "stderr" || !line.includes('"mcpstead listening"')) return undefined;
      return String(JSON.parse(line).address);
    },
    timeoutMs: 60_000,
  });
  proc.child.status.finally(() => Deno.remove(config).catch(() => {}));
  const base = `http://${value}`;
  return { proc, base, url: `${base}/mcp`, listeningMs: ms, spawnedAt };
}

/** One upstream entry of a gateway config. */
export type UpstreamEntry =
  | { name: string; url: string }
  | { name: string; command: string; args: string[] };

/** A gateway config on a free port with quiet logs; `extra` is appended at the top level. */
export function gatewayYaml(servers: UpstreamEntry[], extra = ""): string {
  let yaml = "host: 127.0.0.1\nport: 0\nlogging:\n  level: info\n  format: json\n" + extra;
  if (servers.length === 0) return yaml + "servers: []\n";
  yaml += "servers:\n";
  for (const server of servers) {
    yaml += `  - name: ${server.name}\n`;
    if ("url" in server) yaml += `    url: ${server.url}\n    protocol: streamable\n`;
    else {
      yaml += `    command: ${JSON.stringify(server.command)}\n`;
      yaml += `    args: ${JSON.stringify(server.args)}\n    inherit_env: true\n`;
    }
  }
  return yaml;
}

/** The load generator process, driven by JSON commands. */
export interface Loadgen {
  proc: Proc;
  run(command: Command): Promise<Result>;
}

/** Starts `bench/loadgen.ts` (a separate process, so it is never in the gateway's). */
export async function startLoadgen(): Promise<Loadgen> {
  const { proc } = await start({
    name: "loadgen",
    cmd: DENO,
    args: ["run", "--quiet", "--allow-all", join(ROOT, "bench/loadgen.ts")],
    ready: (line, stream) => (stream === "stdout" && line === "LOADGEN READY" ? true : undefined),
    stdin: true,
    timeoutMs: 30_000,
  });
  const writer = proc.child.stdin.getWriter();
  const encoder = new TextEncoder();
  let waiting: PromiseWithResolvers<Result> | undefined;
  proc.onLine = (line, stream) => {
    if (stream !== "stdout" || !line.startsWith("{")) return;
    waiting?.resolve(JSON.parse(line));
    waiting = undefined;
  };
  proc.child.status.then(() =>
    waiting?.reject(new Error(`loadgen exited:\n${proc.tail.join("\n")}`))
  );
  return {
    proc,
    async run(command) {
      if (waiting) throw new Error("Cannot run: the load generator is busy");
      waiting = Promise.withResolvers<Result>();
      const answer = waiting.promise;
      await writer.write(encoder.encode(JSON.stringify(command) + "\n"));
      return await answer;
    },
  };
}

/** Starts `mcp-proxy` (Node) in front of a stdio command on a free loopback port. */
export async function startMcpProxy(
  bin: string,
  child: { command: string; args: string[] },
): Promise<{ proc: Proc; url: string }> {
  const port = freePort();
  const { proc } = await start({
    name: "mcp-proxy",
    cmd: "node",
    args: [
      bin,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--server",
      "stream",
      "--",
      child.command,
      ...child.args,
    ],
    probe: () => waitForPort(port, 30_000),
    group: true,
    timeoutMs: 35_000,
  });
  return { proc, url: `http://127.0.0.1:${port}/mcp` };
}
