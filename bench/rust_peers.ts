/**
 * The Rust gateways `bench/load.ts` measures beside ours, in the same rounds and in front of the
 * same upstream: the Rust mcpstead 0.1.13 (the gateway we replace) and MikkoParkkola's
 * mcp-gateway 3.5.1. Each is built from crates.io with `cargo install` into a cache folder
 * outside the repository (on request), configured for the run, and started on a free loopback
 * port with an environment of its own.
 *
 * @module
 */
import { join } from "node:path";
import { callParams } from "./load_paired.ts";
import type { PeerReport } from "./load_report.ts";
import type { PeerChoice } from "./peers.ts";
import { freePort, type Proc, start, waitForPort } from "./procs.ts";
import { isResult, parseTarget, RawMcpSession } from "./raw_mcp_session.ts";

/** A Rust gateway from crates.io and how to run it in front of one upstream named `fast`. */
export interface RustPeer {
  /** Its side in the results. */
  key: string;
  crate: string;
  version: string;
  /** The binary `cargo install` puts into `<root>/bin`. */
  bin: string;
  label: string;
  /** About how long the first build takes on 2 cores, for the note printed before it. */
  buildMinutes: number;
  /** Installed by a bare `--install-peers`; otherwise only by `--install-peers=all`. */
  installedByDefault: boolean;
  /** Its config file, listening on 127.0.0.1:`port` in front of `upstream`. */
  config(port: number, upstream: string): string;
  /** Its config in front of a stdio child (`command` is a POSIX shell word list); absent: it has no stdio path. */
  stdioConfig?(port: number, command: string): string;
  /** Its command line after the binary. */
  args(configFile: string): string[];
  /** The MCP endpoint's path, and the name the upstream's `tool_0` has there. */
  path: string;
  tool: string;
}

/** The Rust mcpstead (ahkohd/mcpstead), configured as its README shows. */
export const RUST_MCPSTEAD: RustPeer = {
  key: "mcpstead-rs",
  crate: "mcpstead",
  version: "0.1.13",
  bin: "mcpstead",
  label: "Rust mcpstead 0.1.13",
  buildMinutes: 5,
  installedByDefault: true,
  config: (port, upstream) =>
    `host: 127.0.0.1\nport: ${port}\nlogging:\n  level: info\nservers:\n` +
    `  - name: fast\n    url: ${JSON.stringify(upstream)}\n`,
  args: (configFile) => ["--config", configFile],
  path: "/mcp",
  tool: "fast__tool_0",
};

/**
 * MikkoParkkola's mcp-gateway, through its single-backend route `/mcp/<backend>` (its `/mcp`
 * serves meta-tools only). Plain `http_url` backends default to the legacy SSE handshake, and
 * the per-backend rate limit (100 calls/s) and the result cache (every `gateway_invoke` for
 * 60 s) are on by default: a pass-through benchmark turns all three to what it measures.
 */
export const MCP_GATEWAY: RustPeer = {
  key: "mcp-gateway",
  crate: "mcp-gateway",
  version: "3.5.1",
  bin: "mcp-gateway",
  label: "MikkoParkkola mcp-gateway 3.5.1 (`/mcp/<backend>`, rate limit and cache off)",
  buildMinutes: 13,
  installedByDefault: false,
  config: (port, upstream) =>
    `server:\n  host: 127.0.0.1\n  port: ${port}\n` +
    "failsafe:\n  rate_limit:\n    enabled: false\n" +
    "cache:\n  enabled: false\n" +
    `backends:\n  fast:\n    http_url: ${JSON.stringify(upstream)}\n    streamable_http: true\n`,
  stdioConfig: (port, command) =>
    `server:\n  host: 127.0.0.1\n  port: ${port}\n` +
    "failsafe:\n  rate_limit:\n    enabled: false\n" +
    "cache:\n  enabled: false\n" +
    `backends:\n  fast:\n    command: ${JSON.stringify(command)}\n`,
  args: (configFile) => ["--config", configFile],
  path: "/mcp/fast",
  tool: "tool_0",
};

/** Every Rust peer, in table order. */
export const RUST_PEERS: readonly RustPeer[] = [RUST_MCPSTEAD, MCP_GATEWAY];

/** Where `cargo install` puts the Rust peers: a cache folder outside the repository, kept between runs. */
export function defaultPeerCache(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? ".", ".cache");
  return join(cache, "mcpstead-bench", "peers");
}

/** The `cargo install --root` of one peer: one folder per crate and version. */
export function peerRoot(peer: RustPeer, cache: string): string {
  return join(cache, `${peer.crate}-${peer.version}`);
}

/** Options of {@linkcode findRustPeers}. */
export interface FindRustOptions {
  choice: PeerChoice;
  /** The cache folder ({@linkcode defaultPeerCache} in a run). */
  cache: string;
  /** The cargo command (`cargo` in a run). */
  cargo: string;
  log(text: string): void;
}

/**
 * One report per Rust peer: its binary when it is in the cache (after installing it when the
 * choice asks for that), or why it will not be measured.
 */
export async function findRustPeers(options: FindRustOptions): Promise<PeerReport[]> {
  const reports: PeerReport[] = [];
  for (const peer of RUST_PEERS) {
    const report: PeerReport = {
      key: peer.key,
      label: peer.label,
      crate: peer.crate,
      version: peer.version,
    };
    reports.push(report);
    if (options.choice.skip) {
      report.skipped = "skipped (--no-peers)";
      continue;
    }
    const bin = join(peerRoot(peer, options.cache), "bin", peer.bin);
    const wanted = options.choice.install === "all" ||
      (options.choice.install === "default" && peer.installedByDefault);
    if (!(await isFile(bin)) && wanted) {
      const began = performance.now();
      const failed = await cargoInstall(peer, options);
      report.installSeconds = Math.round((performance.now() - began) / 1000);
      if (failed !== undefined) {
        report.skipped = failed;
        continue;
      }
    }
    if (await isFile(bin)) report.bin = bin;
    else if (!wanted) {
      report.skipped = `not installed (${
        peer.installedByDefault ? "--install-peers" : "--install-peers=all"
      } builds it into ${options.cache}, about ${peer.buildMinutes} minutes)`;
    } else {
      report.skipped = `cannot install: cargo finished but ${bin} is missing`;
    }
  }
  return reports;
}

/** Runs `cargo install`, its progress on our stderr; returns why it failed, if it did. */
async function cargoInstall(
  peer: RustPeer,
  options: FindRustOptions,
): Promise<string | undefined> {
  const root = peerRoot(peer, options.cache);
  options.log(
    `installing ${peer.crate} ${peer.version} with cargo into ${root}; ` +
      `the first build takes about ${peer.buildMinutes} minutes`,
  );
  try {
    const status = await new Deno.Command(options.cargo, {
      args: ["install", peer.crate, "--version", peer.version, "--locked", "--root", root],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn().status;
    if (status.success) return undefined;
    return `cannot install: cargo install ${peer.crate} --version ${peer.version} failed ` +
      `(exit code ${status.code}; its output is above)`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return `cannot install: '${options.cargo}' is not installed (https://rustup.rs)`;
    }
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** A started Rust peer. */
export interface RustPeerProc {
  proc: Proc;
  /** Its MCP endpoint. */
  url: string;
}

/** A command line as POSIX shell words (single-quoted), as mcp-gateway's `command` takes it. */
export function shellWords(command: string, args: readonly string[]): string {
  return [command, ...args].map((word) => `'${word.replaceAll("'", `'"'"'`)}'`).join(" ");
}

/**
 * Starts a peer on a free port, in a temporary folder that is its working directory and HOME
 * (these gateways keep state under HOME and read relative paths), with only PATH from our
 * environment (their `RUST_LOG`, `MCP_GATEWAY_*` variables would override the config), and
 * waits until a `tools/call` through it succeeds. `config` writes its config for a port.
 */
export async function startRustPeer(
  peer: RustPeer,
  bin: string,
  config: (port: number) => string,
): Promise<RustPeerProc> {
  const home = await Deno.makeTempDir({ prefix: `mcpstead-bench-${peer.key}-` });
  const removeHome = () => Deno.remove(home, { recursive: true }).catch(() => {});
  const port = freePort();
  const configFile = join(home, "config.yaml");
  // Owner-only, as these gateways ask of a config (mcp-gateway warns at start otherwise).
  await Deno.writeTextFile(configFile, config(port), { mode: 0o600 });
  let proc: Proc;
  try {
    ({ proc } = await start({
      name: peer.label,
      cmd: bin,
      args: peer.args(configFile),
      cwd: home,
      env: { HOME: home, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      probe: () => waitForPort(port, 30_000),
      timeoutMs: 35_000,
    }));
  } catch (error) {
    await removeHome();
    throw error;
  }
  proc.child.status.finally(removeHome);
  const url = `http://127.0.0.1:${port}${peer.path}`;
  try {
    await untilServes(url, peer.tool);
  } catch (error) {
    await proc.stop();
    throw new Error(`${peer.label} started but did not serve: ${(error as Error).message}`);
  }
  return { proc, url };
}

/** Resolves once one session can call `tool` at `url`; throws the last answer after 30 s. */
async function untilServes(url: string, tool: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  let last = "no answer";
  while (performance.now() < deadline) {
    try {
      const session = await RawMcpSession.open(parseTarget(url));
      const res = await session.request("tools/call", callParams(tool));
      await session.close();
      if (isResult(res)) return;
      last = `HTTP ${res.status}: ${new TextDecoder().decode(res.body.subarray(0, 300))}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Cannot call '${tool}' at ${url} within 30 s: ${last}`);
}
