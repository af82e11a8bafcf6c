/**
 * `mcpstead check [--connect]`: validates a config file, checks that every stdio `command`
 * resolves the way the gateway will start it, and prints the upstreams and the Deno flags the
 * config needs. With `--connect` it also starts or reaches every upstream, lists its tools and
 * prints one row per upstream: server, transport, era, tools, time, error.
 *
 * @module
 */
import { type Config, redactUrl, type ServerConfig, validateConfig } from "./config/mod.ts";
import { quote } from "./config/format.ts";
import { createGateway } from "./gateway.ts";
import { remoteExposure } from "./http/origin.ts";
import { describeError, silentLogger } from "./log.ts";
import { configNeeds, permissionFlags, trackEnv } from "./permissions.ts";

/** Where `check` writes: the report on stdout, one problem per line on stderr. */
export interface CheckOutput {
  print(text: string): void;
  fail(line: string): void;
}

/** Options of {@link runCheck}. */
export interface CheckOptions {
  /** Start or reach every upstream and list its tools. */
  connect: boolean;
  /** The gateway's version (for the upstreams' `initialize`). */
  version: string;
}

/** Checks the config at `path`; the exit code: 0 when everything is fine, 1 otherwise. */
export async function runCheck(
  path: string,
  options: CheckOptions,
  out: CheckOutput,
): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    out.fail(`${path}: Cannot read config: ${describeError(error)}`);
    return 1;
  }
  const tracked = trackEnv((name) => Deno.env.get(name));
  const { config, errors } = validateConfig(text, path, tracked.env);
  if (!config) {
    for (const error of errors) out.fail(error.message);
    return 1;
  }
  const exposure = remoteExposure(config.host, config.mcp);
  if (exposure?.level === "error") {
    out.fail(`${path}: Cannot start: ${exposure.message}`);
    return 1;
  }
  const missing = config.servers.flatMap((server, index) => {
    const problem = commandProblem(server);
    return problem === undefined ? [] : [`${path}: servers[${index}].command: ${problem}`];
  });
  if (missing.length > 0) {
    for (const line of missing) out.fail(line);
    return 1;
  }
  out.print(describeConfig(path, config, tracked.names));
  if (!options.connect) return 0;
  const rows = await connectAll(config, options.version);
  out.print(formatTable([
    ["server", "transport", "era", "tools", "time", "error"],
    ...rows.map((r) => [r.server, r.transport, "legacy", String(r.tools), r.time, r.error]),
  ]));
  return rows.every((row) => row.error === "") ? 0 : 1;
}

function describeConfig(path: string, config: Config, envNames: ReadonlySet<string>): string {
  let out = `${path}: ok\nlisten: ${config.host}:${config.port}  auth: ${config.mcp.auth.mode}\n`;
  out += config.servers.length === 0
    ? "upstreams: none\n"
    : `upstreams (${config.servers.length}):\n`;
  for (const server of config.servers) {
    const flags = [
      transportOf(server),
      server.required ? "required" : "optional",
      `timeout ${server.timeout}s`,
    ];
    const target = server.command ?? redactUrl(server.openapi ?? server.url!);
    out += `  ${server.name}  ${target}  (${flags.join(", ")})\n`;
  }
  return `${out}deno permissions: ${
    permissionFlags(configNeeds(config, path, envNames)).join(" ")
  }\n`;
}

function transportOf(server: ServerConfig): string {
  if (server.command !== undefined) return "stdio";
  return server.openapi !== undefined ? "openapi" : server.protocol;
}

/**
 * Why a stdio server's `command` would not start, or undefined when it resolves: a bare name is
 * looked up on the PATH the child gets (its `env.PATH`, else the gateway's), a path with a `/`
 * relative to its `cwd`.
 */
function commandProblem(server: ServerConfig): string | undefined {
  const command = server.command;
  if (command === undefined) return undefined;
  const cwd = server.cwd ?? Deno.cwd();
  if (command.includes("/")) {
    const file = command.startsWith("/") ? command : `${cwd}/${command}`;
    const found = runnable(file);
    return found === "no" ? `Cannot run ${quote(command)}: no executable file there` : undefined;
  }
  const dirs = (server.env.PATH ?? Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  const results = dirs.map((dir) =>
    runnable(`${dir.startsWith("/") ? dir : `${cwd}/${dir}`}/${command}`)
  );
  if (results.includes("yes") || results.includes("unknown")) return undefined;
  return `Cannot run ${quote(command)}: not found on PATH (${dirs.length} directories searched)`;
}

/** Whether `file` is an executable file; "unknown" when the process may not look. */
function runnable(file: string): "yes" | "no" | "unknown" {
  if (Deno.permissions.querySync({ name: "read", path: file }).state !== "granted") {
    return "unknown";
  }
  try {
    const stat = Deno.statSync(file);
    return stat.isFile && ((stat.mode ?? 0o111) & 0o111) !== 0 ? "yes" : "no";
  } catch {
    return "no";
  }
}

/** One upstream's outcome under `check --connect`. */
interface ConnectRow {
  server: string;
  transport: string;
  tools: number;
  time: string;
  error: string;
}

const POLL_MS = 50;

/**
 * Runs a gateway over `config` (no listener) until every upstream has connected or failed, or
 * its `timeout` passed, and reports each; the gateway is disposed at the end, children included.
 */
async function connectAll(config: Config, version: string): Promise<ConnectRow[]> {
  await using gateway = createGateway(config, { version, log: silentLogger });
  const started = performance.now();
  const settled = new Map<string, number>();
  for (;;) {
    const elapsed = performance.now() - started;
    for (const server of gateway.health().servers) {
      const name = server.name as string;
      const timeout = config.servers.find((s) => s.name === name)!.timeout * 1000;
      if (!settled.has(name) && (server.state !== "connecting" || elapsed >= timeout)) {
        settled.set(name, elapsed);
      }
    }
    if (settled.size === config.servers.length) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return gateway.health().servers.map((server) => {
    const name = server.name as string;
    const configured = config.servers.find((s) => s.name === name)!;
    const connected = server.connected === true;
    const ms = settled.get(name)!;
    const error = connected ? "" : (server.last_error as string | null) ??
      `no answer within ${configured.timeout} s (${server.state})`;
    return {
      server: name,
      transport: (server.transport as string | null) ?? transportOf(configured),
      tools: connected ? Number(server.tools_count) : 0,
      time: `${(ms / 1000).toFixed(1)} s`,
      error,
    };
  });
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  ).join("\n") + "\n";
}
