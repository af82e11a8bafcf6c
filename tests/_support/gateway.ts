/**
 * Runs a gateway from a YAML config on a real socket (127.0.0.1, a free port) for end-to-end tests.
 *
 * @module
 */
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import { type HttpFixture, startHttpFixture } from "../fixtures/http_server.ts";
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
 * by default nowhere) and waits until it is ready. `rewrite()` changes the text the next reload
 * reads; `env` may be changed in place.
 */
export async function startGateway(
  yaml: string,
  env: Record<string, string> = {},
  log: Logger = silentLogger,
): Promise<RunningGateway> {
  let text = yaml;
  const load = () => parseConfig(text, "test.yaml", (name) => env[name]);
  const gateway = createGateway(load(), {
    version: "test",
    log,
    loadConfig: () => Promise.resolve(load()),
  });
  await gateway.ready();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => gateway.handler(req, {}),
  );
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
 * Starts the fixtures `a` and `b` and a gateway over them. `head` is YAML put before `servers:`,
 * `aExtra` is added to a's entry, `env` serves `${VAR}` and `*_env`. Resolves once both are
 * connected and `until` holds (by default: the tools of both are listed).
 */
export async function gatewayOverTwo(
  options: {
    head?: string;
    aExtra?: string;
    env?: Record<string, string>;
    until?: (gateway: Gateway) => boolean;
  } = {},
): Promise<TwoUpstreams> {
  const a = await startHttpFixture({ name: "a" });
  const b = await startHttpFixture({ name: "b" });
  const gw = await startGateway(
    `${options.head ?? ""}servers:\n${upstream("a", a.url, options.aExtra)}${upstream("b", b.url)}`,
    options.env,
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
