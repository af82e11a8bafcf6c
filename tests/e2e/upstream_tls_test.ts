/**
 * HTTPS upstreams on a real TLS loopback server whose certificate a throw-away CA signed (made
 * with openssl for each run): `tls_ca_file` trusts that CA; without it the certificate is
 * refused; `tls_skip_verify` works only with Deno's process-wide
 * `--unsafely-ignore-certificate-errors`, as the README says.
 */
import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { makeCertificates } from "../_support/certificates.ts";
import { connectClient } from "../_support/client.ts";
import { MAIN } from "../_support/cli.ts";
import { startGateway, untilHealthy, upstream } from "../_support/gateway.ts";
import { serveGateway } from "../_support/process.ts";
import { requireTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

Deno.test(requireTool(["openssl"], {
  name:
    "tls_ca_file trusts a private CA: tools of an HTTPS upstream it signed are listed and called",
  async fn({ openssl }) {
    const tls = await makeCertificates(openssl);
    await using up = await startHttpFixture({ name: "up", tls });
    assert.match(up.url, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    await using gw = await startGateway(
      `servers:\n${upstream("up", up.url, `    tls_ca_file: ${tls.ca}\n`)}`,
    );
    await untilHealthy(gw);
    await using client = await connectClient(gw.url);
    assert.equal(
      text(await client.callTool({ name: "up__echo", arguments: { text: "tls" } })),
      "up:tls",
    );
  },
}));

Deno.test(requireTool(["openssl"], {
  name: "an HTTPS upstream signed by an unknown CA is refused, and /health says why",
  async fn({ openssl }) {
    const tls = await makeCertificates(openssl);
    await using up = await startHttpFixture({ name: "up", tls });
    await using gw = await startGateway(`servers:\n${upstream("up", up.url)}`);
    let error = "";
    await waitFor(async () => {
      const health = await (await fetch(`${gw.base}/health`)).json();
      error = health.servers[0].last_error ?? "";
      return error !== "";
    }, "the upstream's error in /health");
    assert.match(error, /invalid peer certificate: UnknownIssuer/);
    assert.equal(up.requests.length, 0, "nothing reached the upstream");
  },
}));

Deno.test(requireTool(["openssl"], {
  name: "tls_skip_verify connects only when Deno runs with --unsafely-ignore-certificate-errors",
  async fn({ openssl }) {
    const tls = await makeCertificates(openssl);
    await using up = await startHttpFixture({ name: "up", tls });
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `port: 0\nservers:\n${upstream("up", up.url, "    tls_skip_verify: true\n")}`,
    );
    const connected = async (address: string) => {
      let last: { connected: boolean; last_error: string | null } | undefined;
      await waitFor(async () => {
        last = (await (await fetch(`http://${address}/health`)).json()).servers[0];
        return last!.connected || last!.last_error !== null;
      }, "the upstream connected or failed");
      return last!;
    };
    {
      await using gateway = await serveGateway(MAIN, ["--config", `${dir}/c.yaml`]);
      const alone = await connected(gateway.address);
      assert.equal(alone.connected, false);
      assert.match(alone.last_error ?? "", /invalid peer certificate: UnknownIssuer/);
    }
    await using gateway = await serveGateway(MAIN, ["--config", `${dir}/c.yaml`], {
      denoFlags: ["--unsafely-ignore-certificate-errors=127.0.0.1"],
    });
    assert.equal((await connected(gateway.address)).connected, true);
    await using client = await connectClient(`http://${gateway.address}/mcp`);
    assert.equal(
      text(await client.callTool({ name: "up__echo", arguments: { text: "x" } })),
      "up:x",
    );
  },
}));
