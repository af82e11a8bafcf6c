/**
 * A replica reaches its store over TLS (`rediss://`): a private CA is trusted through Deno's
 * `DENO_CERT`; without it the replica starts degraded and `/health` says why.
 */
import assert from "node:assert/strict";
import { makeCertificates } from "../_support/certificates.ts";
import { initialize } from "../_support/client.ts";
import { serveGateway } from "../_support/process.ts";
import { requireTool, startTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";
import { freePort } from "./_harness.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test(requireTool(["redis-server", "openssl"], {
  name: "cluster: a replica uses a rediss:// store whose CA DENO_CERT names",
  async fn({ "redis-server": redisServer, openssl }) {
    const { ca } = await makeCertificates(openssl);
    const dir = ca.replace(/\/ca\.pem$/, "");
    const port = freePort();
    await using _redis = await startTool(redisServer, [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      `${dir}/leaf.pem`,
      "--tls-key-file",
      `${dir}/leaf.key`,
      "--tls-ca-cert-file",
      ca,
      "--tls-auth-clients",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
    ], /Ready to accept connections/);
    /** A replica config of its own (each replica listens on its own port). */
    const config = async (name: string) => {
      const path = `${dir}/${name}.yaml`;
      await Deno.writeTextFile(
        path,
        `port: ${freePort()}\ncluster:\n  redis_url: "rediss://127.0.0.1:${port}/0"\n`,
      );
      return path;
    };
    const health = async (address: string) =>
      (await (await fetch(`http://${address}/health`)).json()).cluster;

    await using trusted = await serveGateway(MAIN, ["--config", await config("trusted")], {
      env: { ...Deno.env.toObject(), DENO_CERT: ca },
    });
    await waitFor(async () => (await health(trusted.address)).status === "ok", "the TLS store");
    await initialize(`http://${trusted.address}/mcp`);

    await using untrusted = await serveGateway(MAIN, ["--config", await config("untrusted")]);
    const refused = await health(untrusted.address);
    assert.equal(refused.status, "degraded");
    assert.match(refused.last_error, /certificate/);
  },
}));
