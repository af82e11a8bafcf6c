import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "../_support/client.ts";
import { startGateway, upstream } from "../_support/gateway.ts";
import { startTlsFront, TEST_CA_FILE } from "../_support/tls_front.ts";
import { waitFor } from "../_support/wait.ts";

Deno.test("HTTPS upstreams: tls_ca_file is trusted by the native client; an HTTP/2-only one is served through fetch, and /health says which and why", async () => {
  await using one = await startHttpFixture({ name: "one" });
  await using two = await startHttpFixture({ name: "two" });
  await using tls = startTlsFront(one.port, ["http/1.1"]);
  await using h2 = startTlsFront(two.port, ["h2"]);
  const ca = `    tls_ca_file: ${TEST_CA_FILE}\n`;
  await using gw = await startGateway(
    `servers:\n${upstream("one", `https://localhost:${tls.port}/mcp`, ca)}${
      upstream("two", `https://localhost:${h2.port}/mcp`, ca)
    }`,
  );
  await waitFor(() => gw.gateway.health().status === "ok", "both upstreams to connect");
  const health = await (await fetch(`${gw.base}/health`)).json();
  const [a, b] = health.servers;
  assert.equal(a.http_client, "native");
  assert.equal(a.http_client_reason, null);
  assert.equal(b.http_client, "fetch");
  assert.match(b.http_client_reason, /refused HTTP\/1\.1 in the TLS handshake \(ALPN\)/);
  await using client = await connectClient(gw.url);
  for (const name of ["one", "two"]) {
    const result = await client.callTool({ name: `${name}__echo`, arguments: { text: "x" } });
    assert.deepEqual(result.content, [{ type: "text", text: `${name}:x` }]);
  }
});
