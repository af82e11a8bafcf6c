/**
 * Finds (and on request installs) the peers the load benchmark compares against: `mcp-proxy`
 * (npm, run with Node), which fronts one stdio server over Streamable HTTP, and reads the peer
 * flags of `bench/load.ts` (the Rust gateways are in `rust_peers.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "./procs.ts";

/** The version DESIGN §7 and research/ts-peers.md measured. */
export const MCP_PROXY_VERSION = "6.7.19";
/** Where `--install-peers` puts it (git-ignored by bench/.gitignore). */
export const PEERS_DIR = join(ROOT, "bench/.peers");

const BIN = "node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs";

/** Which missing peers to install: none, mcp-proxy and the Rust mcpstead, or also mcp-gateway. */
export type InstallChoice = "none" | "default" | "all";

/** What the peer flags ask for. */
export interface PeerChoice {
  /** `--no-peers`: measure no peer at all. */
  skip: boolean;
  install: InstallChoice;
}

/**
 * Reads `--no-peers`, `--install-peers` and `--install-peers=all`; throws on other values or on
 * both at once.
 */
export function readPeerChoice(flags: ReadonlyMap<string, string>): PeerChoice {
  const skip = flags.has("no-peers");
  const value = flags.get("install-peers");
  const install: InstallChoice = value === undefined
    ? "none"
    : value === "true"
    ? "default"
    : value === "all"
    ? "all"
    : invalid(
      `--install-peers '${value}' is not a choice; use --install-peers or --install-peers=all`,
    );
  if (skip && install !== "none") invalid("--no-peers and --install-peers contradict each other");
  return { skip, install };
}

function invalid(why: string): never {
  throw new Error(`Cannot read the peer flags: ${why}`);
}

/** A usable mcp-proxy. */
export interface McpProxy {
  bin: string;
  version: string;
}

/** Options of {@linkcode findMcpProxy}. */
export interface FindOptions {
  /** A path given on the command line (`--mcp-proxy`). */
  explicit: string | undefined;
  /** Install it into bench/.peers with npm when it is not found. */
  install: boolean;
  log(text: string): void;
}

/** The mcp-proxy to use, or undefined (with a note why) when there is none. */
export async function findMcpProxy(options: FindOptions): Promise<McpProxy | undefined> {
  if (!(await succeeds("node", ["--version"]))) {
    options.log("node is not installed: the mcp-proxy comparison is skipped");
    return undefined;
  }
  const candidates = [
    options.explicit,
    Deno.env.get("MCP_PROXY_BIN"),
    join(PEERS_DIR, BIN),
    join(ROOT, BIN),
  ].filter((c): c is string => c !== undefined && c !== "");
  for (const bin of candidates) {
    const found = await inspect(bin);
    if (found) return found;
  }
  if (options.install) {
    options.log(`installing mcp-proxy@${MCP_PROXY_VERSION} into ${PEERS_DIR}`);
    await Deno.mkdir(PEERS_DIR, { recursive: true });
    const ok = await succeeds("npm", [
      "install",
      "--prefix",
      PEERS_DIR,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `mcp-proxy@${MCP_PROXY_VERSION}`,
    ]);
    if (ok) return await inspect(join(PEERS_DIR, BIN));
  }
  options.log(
    `mcp-proxy not found (pass --install-peers, or npm i --prefix bench/.peers mcp-proxy@${MCP_PROXY_VERSION}): skipped`,
  );
  return undefined;
}

async function inspect(bin: string): Promise<McpProxy | undefined> {
  try {
    await Deno.stat(bin);
    const pkg = JSON.parse(await Deno.readTextFile(join(bin, "../../../package.json")));
    return { bin, version: String(pkg.version) };
  } catch {
    return undefined;
  }
}

/** Whether a command runs and exits 0 (false when it is not installed). */
export async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}
