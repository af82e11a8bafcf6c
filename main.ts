/**
 * The mcpstead command line: the only module that reads `Deno.args`, calls `Deno.serve` or
 * installs signal listeners.
 */
import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import {
  type Config,
  ConfigError,
  importClientConfig,
  loadConfig,
  resolveConfigPath,
  validateConfig,
} from "./src/config/mod.ts";
import { createGateway } from "./src/gateway.ts";
import { createLogger, describeError, type Logger } from "./src/log.ts";

const VERSION: string = denoJson.version;

const HELP = `mcpstead ${VERSION}: one MCP endpoint in front of many MCP servers

Usage:
  mcpstead [--config <path>] [--watch] [--log-format auto|json|pretty]
  mcpstead check [--config <path>]     validate the config and print the upstreams that would run
  mcpstead import <client.json>        print the YAML for a Claude Desktop / Cursor "mcpServers" file
  mcpstead --version                   print the version
  mcpstead --help                      print this help

Options:
  -c, --config <path>   config file (YAML)
      --watch           reload when the config file changes (SIGHUP and POST /-/reload always work)
      --log-format <f>  auto (pretty on a terminal, JSON lines otherwise), json or pretty
  -V, --version         print "mcpstead <version>" and exit
  -h, --help            print this help and exit

Config discovery, first found wins:
  --config, $MCPSTEAD_CONFIG, ./mcpstead.yaml, ~/.config/mcpstead/config.yaml,
  /etc/mcpstead/config.yaml

Environment:
  MCPSTEAD_CONFIG        config path, when --config is not given
  MCPSTEAD_BEARER_TOKEN  the downstream token when mcp.auth.mode is bearer
  (any name)             variables named by token_env or used as \${VAR} in header values

Routes:
  POST|GET|DELETE /mcp   the MCP endpoint (Streamable HTTP)
  GET /health            upstream status as JSON
  GET /metrics           Prometheus metrics
  POST /-/reload         reload the config (also SIGHUP); 400 with the reason on a bad file

Exit codes: 0 ok, 1 config or startup error, 2 usage error.
`;

/** Thrown for a command line that cannot be understood; exits 2. */
class UsageError extends Error {}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        "log-format": { type: "string" },
        watch: { type: "boolean" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    print(HELP);
    return 0;
  }
  if (values.version) {
    print(`mcpstead ${VERSION}\n`);
    return 0;
  }
  const command = positionals[0] ?? "serve";
  if (command === "import") {
    if (positionals.length !== 2) {
      throw new UsageError("import takes one file: mcpstead import <client.json>");
    }
    return await importFile(positionals[1]!);
  }
  if (positionals.length > 1 || !["serve", "check"].includes(command)) {
    throw new UsageError(`unknown command '${positionals.join(" ")}'`);
  }
  const format = values["log-format"] ?? "auto";
  if (!["auto", "json", "pretty"].includes(format)) {
    throw new UsageError(`--log-format must be auto, json or pretty (got '${format}')`);
  }
  const found = resolveConfigPath({
    ...(values.config === undefined ? {} : { flag: values.config }),
    env: (name) => Deno.env.get(name),
    exists: (path) => fileExists(path),
    ...(Deno.env.get("HOME") === undefined ? {} : { home: Deno.env.get("HOME")! }),
  });
  if (!found) {
    fail("Cannot start: no config file found; pass --config <path> or set MCPSTEAD_CONFIG");
    return 1;
  }
  if (command === "check") return await check(found.path);
  let config: Config;
  try {
    config = await loadConfig(found.path);
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : describeError(error));
    return 1;
  }
  return await serve(
    found.path,
    config,
    format as "auto" | "json" | "pretty",
    values.watch === true,
  );
}

async function importFile(path: string): Promise<number> {
  try {
    print(importClientConfig(await Deno.readTextFile(path), path));
    return 0;
  } catch (error) {
    fail(
      error instanceof ConfigError
        ? error.message
        : `${path}: Cannot import: ${describeError(error)}`,
    );
    return 1;
  }
}

async function check(path: string): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    fail(`${path}: Cannot read config: ${describeError(error)}`);
    return 1;
  }
  const { config, errors } = validateConfig(text, path, (name) => Deno.env.get(name));
  if (!config) {
    for (const error of errors) fail(error.message);
    return 1;
  }
  let out = `${path}: ok\nlisten: ${config.host}:${config.port}  auth: ${config.mcp.auth.mode}\n`;
  out += config.servers.length === 0
    ? "upstreams: none\n"
    : `upstreams (${config.servers.length}):\n`;
  for (const server of config.servers) {
    const flags = [
      server.command === undefined ? server.protocol : "stdio",
      server.required ? "required" : "optional",
      `timeout ${server.timeout}s`,
    ];
    const target = server.command ?? server.url;
    out += `  ${server.name}  ${target}  (${flags.join(", ")})\n`;
  }
  print(out);
  return 0;
}

async function serve(
  path: string,
  config: Config,
  format: "auto" | "json" | "pretty",
  watch: boolean,
): Promise<number> {
  const chosen = config.logging.format !== "auto" && format === "auto"
    ? config.logging.format
    : format;
  const log = createLogger({
    level: config.logging.level,
    format: chosen === "auto" ? (Deno.stderr.isTerminal() ? "pretty" : "json") : chosen,
  });
  const gateway = createGateway(config, {
    version: VERSION,
    log,
    loadConfig: () => loadConfig(path),
  });
  try {
    await gateway.ready();
  } catch (error) {
    await gateway.dispose();
    fail(describeError(error));
    return 1;
  }
  const reloads = new AbortController();
  watchForReloads(path, watch, () => gateway.reload(), reloads.signal);
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) =>
        log.info("mcpstead listening", {
          version: VERSION,
          address: `${hostname}:${port}`,
          upstreams: config.servers.length,
        }),
    }, (req, info) => gateway.handler(req, { remoteAddr: addressOf(info.remoteAddr) }));
  } catch (error) {
    reloads.abort();
    await gateway.dispose();
    fail(`Cannot listen on ${config.host}:${config.port}: ${describeError(error)}`);
    return 1;
  }
  await waitForStopSignal(log);
  reloads.abort();
  await gateway.shutdown();
  await server.shutdown();
  log.info("mcpstead stopped");
  return 0;
}

/**
 * Reloads on SIGHUP and, with `--watch`, when the config file changes (debounced, since editors
 * write files in several steps). A failed reload is logged by the gateway; nothing else happens.
 */
function watchForReloads(
  path: string,
  watch: boolean,
  reload: () => Promise<unknown>,
  signal: AbortSignal,
): void {
  const run = () => void reload().catch(() => {});
  Deno.addSignalListener("SIGHUP", run);
  signal.addEventListener("abort", () => Deno.removeSignalListener("SIGHUP", run), { once: true });
  if (!watch) return;
  const watcher = Deno.watchFs(path);
  signal.addEventListener("abort", () => watcher.close(), { once: true });
  (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    for await (const event of watcher) {
      if (event.kind === "access") continue;
      clearTimeout(timer);
      timer = setTimeout(run, 150);
    }
    clearTimeout(timer);
  })();
}

function waitForStopSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
    const onSignal = () => {
      log.info("shutting down");
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      resolve();
    };
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  });
}

function addressOf(addr: Deno.Addr): string | undefined {
  return "hostname" in addr ? `${addr.hostname}:${addr.port}` : undefined;
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

function fail(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`mcpstead: ${line}\n`));
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    fail(`${error.message}\nRun 'mcpstead --help' for usage.`);
    code = 2;
  }
  Deno.exit(code);
}
