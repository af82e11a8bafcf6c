/**
 * Runs a gateway from a YAML config on a real socket (127.0.0.1, a free port) for end-to-end tests.
 *
 * @module
 */
import { parseConfig } from "../../src/config/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";

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
 * Parses `yaml` (with `env` for `${VAR}` and `token_env`), starts the gateway and waits until it
 * is ready. `rewrite()` changes the text the next reload reads; `env` may be changed in place.
 */
export async function startGateway(
  yaml: string,
  env: Record<string, string> = {},
): Promise<RunningGateway> {
  let text = yaml;
  const load = () => parseConfig(text, "test.yaml", (name) => env[name]);
  const gateway = createGateway(load(), {
    version: "test",
    log: silentLogger,
    loadConfig: () => Promise.resolve(load()),
  });
  await gateway.ready();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => gateway.handler(req, {}),
  );
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
