/**
 * The mcpstead command line: the only module that reads `Deno.args`, listens on a socket or
 * installs signal listeners.
 */
import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import { type Config, ConfigError, importClientConfig, loadConfig } from "./src/config/mod.ts";
import { createGateway } from "./src/gateway.ts";
import { remoteExposure } from "./src/http/origin.ts";
import { createLogger, describeError, type Logger } from "./src/log.ts";
import { runCheck } from "./src/cli_check.ts";
import { completionScript, helpText, parseArgsMessage, SHELLS } from "./src/cli_text.ts";
import { readGitSha } from "./src/metrics/mod.ts";
import { serveHttp, serverLimits } from "./src/http/server.ts";
import {
  canSignalProcessGroups,
  configNeeds,
  describeMissing,
  discoverConfig,
  loadNeeds,
  missingPermissions,
  type PermissionNeed,
  queryProcess,
  trackEnv,
} from "./src/permissions.ts";

const VERSION: string = denoJson.version;
/** The commit of a git clone this runs from (not of a bundle or compiled binary). */
const GIT_SHA = import.meta.url.startsWith("file:")
  ? readGitSha(new URL(".", import.meta.url).pathname.replace(/\/$/, ""))
  : undefined;

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
        connect: { type: "boolean" },
        "log-format": { type: "string" },
        watch: { type: "boolean" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    print(helpText(VERSION));
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
  if (command === "completions") {
    const script = positionals.length === 2 ? completionScript(positionals[1]!) : undefined;
    if (script === undefined) {
      throw new UsageError(`completions takes one shell: mcpstead completions ${SHELLS.join("|")}`);
    }
    print(script);
    return 0;
  }
  if (positionals.length > 1 || !["serve", "check", "openapi"].includes(command)) {
    throw new UsageError(`unknown command '${positionals.join(" ")}'`);
  }
  if (values.connect && command !== "check") {
    throw new UsageError("--connect applies to check only: mcpstead check --connect");
  }
  const format = values["log-format"] ?? "auto";
  if (!["auto", "json", "pretty"].includes(format)) {
    throw new UsageError(`--log-format must be auto, json or pretty (got '${format}')`);
  }
  const found = discoverConfig(values.config, (name) => Deno.env.get(name), fileExists);
  if (found.missing.length > 0) {
    fail(`Cannot start: ${describeMissing(found.missing, found.needs)}`);
    return 1;
  }
  if (found.path === undefined) {
    fail("Cannot start: no config file found; pass --config <path> or set MCPSTEAD_CONFIG");
    return 1;
  }
  if (command === "check") {
    return await runCheck(found.path, { connect: values.connect === true, version: VERSION }, {
      print,
      fail,
    });
  }
  let config: Config;
  try {
    config = await loadPermitted(found.path, "start");
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof PermissionError;
    fail(known ? error.message : describeError(error));
    return 1;
  }
  if (command === "openapi") return await printOpenApi(config);
  return await serve(
    found.path,
    config,
    format as "auto" | "json" | "pretty",
    values.watch === true,
  );
}

/** Thrown when a loaded config needs a permission the process lacks. */
class PermissionError extends Error {}

/**
 * Loads the config and checks that the process may do everything it asks for (listen, reach
 * each upstream, run each command, read each variable and CA file): the preflight of sandboxed
 * runs, at startup and at every reload. A file or variable the process may not read is
 * reported as a missing permission, ahead of the config errors it causes.
 */
async function loadPermitted(path: string, action: "start" | "reload"): Promise<Config> {
  const tracked = trackEnv((name) => Deno.env.get(name), queryProcess);
  let config: Config | undefined;
  let failure: unknown;
  try {
    config = await loadConfig(path, { env: tracked.env });
  } catch (error) {
    failure = error;
  }
  const needs = config === undefined
    ? [...loadNeeds(path), ...[...tracked.names].map(envNeed)]
    : configNeeds(config, path, tracked.names);
  const missing = missingPermissions(needs);
  if (missing.length > 0) {
    throw new PermissionError(`Cannot ${action}: ${describeMissing(missing, needs)}`);
  }
  if (config === undefined) throw failure;
  return config;
}

function envNeed(name: string): PermissionNeed {
  return { kind: "env", value: name, reason: "a variable the config names" };
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

/**
 * Connects to every upstream (waiting at most each one's `timeout`), prints the REST API's
 * OpenAPI document for all their tools, and exits; upstreams that did not connect are named on
 * stderr and left out of the document.
 */
async function printOpenApi(config: Config): Promise<number> {
  await using gateway = createGateway(config, { version: VERSION });
  try {
    await gateway.ready();
  } catch (error) {
    fail(describeError(error));
    return 1;
  }
  const deadline = Date.now() + Math.max(0, ...config.servers.map((s) => s.timeout)) * 1000;
  const pending = () => gateway.health().servers.filter((s) => s.state === "connecting");
  while (pending().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const server of gateway.health().servers) {
    if (!server.connected) {
      fail(
        `upstream '${server.name}' is not connected (${
          server.last_error ?? server.state
        }); its tools are left out`,
      );
    }
  }
  print(`${JSON.stringify(gateway.openApi(), null, 2)}\n`);
  return 0;
}

async function serve(
  path: string,
  config: Config,
  format: "auto" | "json" | "pretty",
  watch: boolean,
): Promise<number> {
  const exposure = remoteExposure(config.host, config.mcp);
  if (exposure?.level === "error") {
    fail(`Cannot start: ${exposure.message}`);
    return 1;
  }
  const chosen = config.logging.format !== "auto" && format === "auto"
    ? config.logging.format
    : format;
  const log = createLogger({
    level: config.logging.level,
    format: chosen === "auto" ? (Deno.stderr.isTerminal() ? "pretty" : "json") : chosen,
  });
  if (exposure) log.warn(exposure.message);
  if (config.servers.some((s) => s.command !== undefined) && !canSignalProcessGroups()) {
    log.warn(
      "stdio upstreams run with a restricted --allow-run: Deno lets mcpstead signal a process " +
        "group only with --allow-run for all commands, so processes a stdio server starts may " +
        "outlive it",
    );
  }
  const gateway = createGateway(config, {
    version: VERSION,
    ...(GIT_SHA === undefined ? {} : { gitSha: GIT_SHA }),
    log,
    loadConfig: () => loadPermitted(path, "reload"),
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
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: config.host, port: config.port });
  } catch (error) {
    reloads.abort();
    await gateway.dispose();
    fail(`Cannot listen on ${config.host}:${config.port}: ${describeError(error)}`);
    return 1;
  }
  const server = serveHttp(listener, gateway.handler, {
    limits: serverLimits(config.mcp.limits),
    log,
  });
  gateway.listening(server.addr);
  log.info("mcpstead listening", {
    version: VERSION,
    address: `${server.addr.hostname}:${server.addr.port}`,
    upstreams: config.servers.length,
  });
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
