/**
 * `deno task conformance`: runs the official MCP conformance suite (server mode) against
 * mcpstead with a conformance fixture as its only upstream, or against the fixture itself with
 * `--direct` (recipe: `research/spec-conformance.md` §3.8).
 *
 * ```sh
 * deno run --config tests/deno.json -A tests/conformance/run.ts [--era legacy|modern] [--fixture sdk1|sdk2]
 *   [--transport http|sse|stdio] [--session shared|per_client] [--suite active|all]
 *   [--tools-mode direct|meta|both] [--scenario NAME] [--direct] [--verbose]
 * ```
 *
 * - `--era legacy` (default): `@modelcontextprotocol/conformance@0.1.16`, the 2025 suite.
 * - `--era modern`: `@modelcontextprotocol/conformance@0.2.0-alpha.12` with
 *   `--requirements 2026-07-28` (the 37 required scenarios, at the 2026 wire; it also runs 13
 *   unscored ones), or one `--scenario` at `--spec-version 2026-07-28`. The suite needs Node 22,
 *   so it runs under Deno, like the 2025 one.
 * - `--fixture`: `sdk1` (`tests/fixtures/conformance_server.ts`, SDK v1, 2025 only; the default
 *   for `--era legacy`) or `sdk2` (`tests/fixtures/conformance_server_sdk2.ts`, SDK v2, both
 *   eras; the only one for `--era modern`, and it passes the 2025 suite too). Legacy HTTP+SSE
 *   (`--transport sse`) needs `sdk1`: SDK v2 has no such server transport.
 *
 * - `--transport`: how the gateway reaches the fixture (default http). For http and sse the
 *   fixture runs as its own process; for stdio the gateway spawns it.
 * - `--session per_client`: one upstream session per client (`session: per_client` for a url
 *   server, `sharing: per_session` for stdio).
 * - `--tools-mode`: the gateway's `mcp.tools_mode` (default direct); `both` lists the meta tools
 *   beside every tool.
 * - `--direct`: no gateway; the suite talks to the fixture (http only: the suite's client
 *   speaks Streamable HTTP).
 * - `--verbose`: copy the gateway's log lines to stderr as they come (otherwise only the last
 *   ones are shown, and only when something failed).
 *
 * Prints the suite's output, then its `Total: N passed, M failed` line last (for `--era modern`,
 * the checks of the required scenarios only, after a `Required scenarios: N of M pass` line),
 * and exits with the suite's exit code (1 when a check failed or the suite did not run, 2 on bad
 * arguments).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { TEST_CONFIG } from "../_support/process.ts";
import { manage, type Managed, readLines, withTimeout } from "./child.ts";
import { SuiteTally } from "./suite_tally.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURES = {
  sdk1: new URL("../fixtures/conformance_server.ts", import.meta.url).pathname,
  sdk2: new URL("../fixtures/conformance_server_sdk2.ts", import.meta.url).pathname,
};
const SUITES = {
  legacy: "npm:@modelcontextprotocol/conformance@0.1.16",
  modern: "npm:@modelcontextprotocol/conformance@0.2.0-alpha.12",
};
/** The requirement set `--era modern` runs. */
const MODERN_REVISION = "2026-07-28";
const SERVER_NAME = "conf";
const READY_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 60;

interface Options {
  era: "legacy" | "modern";
  fixture: "sdk1" | "sdk2";
  transport: "http" | "sse" | "stdio";
  session: "shared" | "per_client";
  /** Undefined for `--era modern`, whose requirement set fixes what runs. */
  suite: "active" | "all" | undefined;
  toolsMode: "direct" | "meta" | "both";
  scenario: string | undefined;
  direct: boolean;
  verbose: boolean;
}

/** Thrown for a command line that cannot be understood; exits 2. */
class UsageError extends Error {}

const encoder = new TextEncoder();
const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const note = (text: string) => Deno.stderr.writeSync(encoder.encode(`conformance: ${text}\n`));

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const started: Managed[] = [];
  const stopAll = async () => {
    for (const managed of started.splice(0).reverse()) await managed.stop();
  };
  // Holds the gateway config (kept to the end: a reload may read it) and is the suite's cwd.
  const workDir = await Deno.makeTempDir({ prefix: "mcpstead-conformance-" });
  const removeWorkDir = () => Deno.remove(workDir, { recursive: true }).catch(() => {});
  const onSignal = () => void stopAll().then(removeWorkDir).finally(() => Deno.exit(130));
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);

  const gatewayLog: string[] = [];
  let total: string | undefined;
  let code = 1;
  try {
    let fixtureUrl: string | undefined;
    if (options.transport !== "stdio") {
      const fixture = await startFixture(FIXTURES[options.fixture], options.transport);
      started.push(fixture.managed);
      fixtureUrl = fixture.url;
      note(`fixture (${options.transport}) at ${fixtureUrl}`);
    }
    let target = fixtureUrl;
    if (!options.direct) {
      const configPath = `${workDir}/mcpstead.yaml`;
      await Deno.writeTextFile(configPath, gatewayConfig(options, fixtureUrl));
      const gateway = await startGateway(configPath, gatewayLog, options.verbose);
      started.push(gateway.managed);
      await waitForConnected(gateway.address);
      target = `http://${gateway.address}/mcp`;
      note(`gateway at ${target} (upstream ${SERVER_NAME} connected over ${options.transport})`);
    }
    ({ code, total } = await runSuite(target!, options, workDir, (suite) => started.push(suite)));
  } catch (error) {
    note(`Cannot run: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await stopAll();
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(signal, onSignal);
    }
    await removeWorkDir();
  }
  const failed = total === undefined ? undefined : Number(/(\d+) failed/.exec(total)?.[1]);
  if (code === 0 && failed !== 0) code = 1;
  if (code !== 0 && !options.verbose && gatewayLog.length > 0) {
    note(`last gateway log lines:\n${gatewayLog.slice(-LOG_TAIL_LINES).join("\n")}`);
  }
  if (total === undefined) note(`Cannot read the result: the suite printed no "Total:" line`);
  else write(`${total}\n`);
  return code;
}

function parseOptions(args: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        era: { type: "string", default: "legacy" },
        fixture: { type: "string" },
        transport: { type: "string", default: "http" },
        session: { type: "string", default: "shared" },
        suite: { type: "string" },
        "tools-mode": { type: "string", default: "direct" },
        scenario: { type: "string" },
        direct: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const oneOf = <T extends string>(flag: string, value: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`--${flag} must be ${allowed.join(", ")} (got "${value}")`);
    }
    return value as T;
  };
  const era = oneOf("era", values.era, ["legacy", "modern"] as const);
  const options: Options = {
    era,
    fixture: oneOf(
      "fixture",
      values.fixture ?? (era === "modern" ? "sdk2" : "sdk1"),
      [
        "sdk1",
        "sdk2",
      ] as const,
    ),
    transport: oneOf("transport", values.transport, ["http", "sse", "stdio"] as const),
    session: oneOf("session", values.session, ["shared", "per_client"] as const),
    suite: era === "modern" ? undefined : oneOf(
      "suite",
      values.suite ?? "active",
      [
        "active",
        "all",
      ] as const,
    ),
    toolsMode: oneOf("tools-mode", values["tools-mode"], ["direct", "meta", "both"] as const),
    scenario: values.scenario,
    direct: values.direct,
    verbose: values.verbose,
  };
  if (era === "modern" && values.suite !== undefined) {
    throw new UsageError("--suite applies to --era legacy; --era modern runs a requirement set");
  }
  if (era === "modern" && options.fixture === "sdk1") {
    throw new UsageError("--era modern needs --fixture sdk2: the SDK v1 fixture serves 2025 only");
  }
  if (options.fixture === "sdk2" && options.transport === "sse") {
    throw new UsageError("--transport sse needs --fixture sdk1: SDK v2 has no HTTP+SSE server");
  }
  if (options.direct && options.transport !== "http") {
    throw new UsageError(
      "--direct needs --transport http: the suite's client speaks Streamable HTTP",
    );
  }
  if (options.direct && options.session !== "shared") {
    throw new UsageError("--session applies to the gateway; drop it with --direct");
  }
  return options;
}

/** The gateway config: the fixture as the only upstream, names and URIs kept verbatim. */
function gatewayConfig(options: Options, fixtureUrl: string | undefined): string {
  const q = (value: string) => JSON.stringify(value);
  let server = `  - name: ${SERVER_NAME}\n`;
  if (options.transport === "stdio") {
    const args = [
      "run",
      "--config",
      TEST_CONFIG,
      "-A",
      FIXTURES[options.fixture],
      "--transport",
      "stdio",
    ];
    server += `    command: ${q(Deno.execPath())}\n    args: ${JSON.stringify(args)}\n` +
      `    cwd: ${q(ROOT)}\n    inherit_env: true\n`;
    if (options.session === "per_client") server += "    sharing: per_session\n";
  } else {
    server += `    url: ${q(fixtureUrl!)}\n`;
    if (options.transport === "sse") server += "    protocol: sse\n";
    if (options.session === "per_client") server += "    session: per_client\n";
  }
  return `port: 0\nnamespacing: never\nmcp:\n  tools_mode: ${options.toolsMode}\nservers:\n${server}`;
}

/** Starts the fixture and resolves with its URL once it printed `READY <url>`. */
async function startFixture(
  fixture: string,
  transport: "http" | "sse",
): Promise<{ managed: Managed; url: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", TEST_CONFIG, "-A", fixture, "--transport", transport],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const managed = manage("fixture", child);
  const lines = readLines(child.stdout);
  try {
    const first = await withTimeout(lines.next(), READY_TIMEOUT_MS, "the fixture's READY line");
    if (first.done || !first.value.startsWith("READY ")) {
      throw new Error(`the fixture printed ${JSON.stringify(first.value ?? "nothing")}, not READY`);
    }
    // Keep reading so the pipe never fills.
    void (async () => {
      for await (const _ of lines) { /* discard */ }
    })();
    return { managed, url: first.value.slice("READY ".length).trim() };
  } catch (error) {
    await managed.stop();
    throw error;
  }
}

/** Starts the gateway and resolves with `host:port` from its "mcpstead listening" log line. */
async function startGateway(
  configPath: string,
  log: string[],
  verbose: boolean,
): Promise<{ managed: Managed; address: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--config", configPath, "--log-format", "json"],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const managed = manage("gateway", child);
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  void (async () => {
    for await (const line of readLines(child.stderr)) {
      log.push(line);
      if (log.length > LOG_TAIL_LINES * 2) log.splice(0, LOG_TAIL_LINES);
      if (verbose) Deno.stderr.writeSync(encoder.encode(`gateway: ${line}\n`));
      const address = listeningAddress(line);
      if (address !== undefined) resolve(address);
    }
    // Its last log lines are printed at the end.
    reject(new Error('the gateway exited before its "mcpstead listening" line'));
  })();
  try {
    return {
      managed,
      address: await withTimeout(listening, READY_TIMEOUT_MS, "the gateway's listening line"),
    };
  } catch (error) {
    await managed.stop();
    throw error;
  }
}

function listeningAddress(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; address?: unknown };
    return entry.msg === "mcpstead listening" && typeof entry.address === "string"
      ? entry.address
      : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `GET /health` until the upstream reports `connected: true`. */
async function waitForConnected(address: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://${address}/health`, {
        signal: AbortSignal.timeout(2_000),
      });
      const health = await response.json() as { servers?: Array<Record<string, unknown>> };
      const server = health.servers?.find((s) => s.name === SERVER_NAME);
      if (server?.connected === true) return;
      last = JSON.stringify(server ?? health);
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`upstream "${SERVER_NAME}" not connected after ${READY_TIMEOUT_MS} ms: ${last}`);
}

/** Runs the suite, copying its output through, and returns its exit code and `Total:` line. */
async function runSuite(
  url: string,
  options: Options,
  cwd: string,
  track: (suite: Managed) => void,
): Promise<{ code: number; total: string | undefined }> {
  const suite = SUITES[options.era];
  const args = ["run", "-A", "--no-config", "--no-lock", suite, "server", "--url", url];
  if (options.scenario !== undefined) args.push("--scenario", options.scenario);
  if (options.era === "legacy" && options.scenario === undefined) {
    args.push("--suite", options.suite ?? "active");
  }
  if (options.era === "modern") {
    args.push(...options.scenario === undefined ? ["--requirements"] : ["--spec-version"]);
    args.push(MODERN_REVISION);
  }
  note(`running ${suite} ${args.slice(5).join(" ")}`);
  // `cwd` is outside the repository (and `--no-config`), so the suite's npm dependencies never
  // touch deno.lock or node_modules.
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  track(manage("suite", child));
  const tally = new SuiteTally();
  for await (const line of readLines(child.stdout)) {
    write(`${line}\n`);
    tally.read(stripAnsi(line).trim());
  }
  const code = (await child.status).code;
  const required = options.era === "modern" && options.scenario === undefined
    ? tally.requiredTotal()
    : undefined;
  if (required === undefined) return { code, total: tally.suiteTotal() };
  write(`\n${required.scenarios} (${MODERN_REVISION}; unscored ones left out of the total)\n`);
  return { code, total: required.total };
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    note(
      `${error.message}\nUsage: deno run -A tests/conformance/run.ts [--era legacy|modern] ` +
        "[--fixture sdk1|sdk2] [--transport http|sse|stdio] [--session shared|per_client] " +
        "[--suite active|all] [--tools-mode direct|meta|both] [--scenario NAME] [--direct] " +
        "[--verbose]",
    );
    code = 2;
  }
  // Exit explicitly, so nothing left pending (a reader of a killed child's pipe) can hold CI.
  Deno.exit(code);
}
