import { equal } from "node:assert/strict";
import { configSecrets, createRedactor, parseConfig } from "../../src/config/mod.ts";

Deno.test("createRedactor() hides URL credentials inside text and the config's secrets anywhere", () => {
  const config = parseConfig(
    `mcp:\n  auth: { mode: bearer }\nservers:\n` +
      `  - name: a\n    url: "http://bob:p%40ss-word@h.example/mcp?api_key=k3y-value&v=2"\n` +
      `  - name: b\n    url: http://h.example/b\n    auth: { type: bearer, token_env: B_TOKEN }\n` +
      `    headers: { X-Api-Key: "hdr-\${KEY}" }\n` +
      `  - name: c\n    openapi: "https://docs.example/api.json?sig=doc-signature"\n` +
      `    base_url: "https://api.example/v1?key=base-secret"\n`,
    "c.yaml",
    (name) =>
      ({ MCPSTEAD_BEARER_TOKEN: "gateway-token", B_TOKEN: "b-token-1", KEY: "12345" })[name],
  );
  const redact = createRedactor(configSecrets(config));
  equal(
    redact(
      "Cannot reach upstream 'a': error sending request for url " +
        "(http://h.example/mcp?api_key=k3y-value&v=2): refused",
    ),
    "Cannot reach upstream 'a': error sending request for url " +
      "(http://h.example/mcp?api_key=***&v=***): refused",
  );
  equal(redact("upstream said: bad key k3y-value"), "upstream said: bad key ***");
  equal(redact("user bob, password p@ss-word"), "user bob, password ***");
  equal(redact("tokens b-token-1 gateway-token hdr-12345"), "tokens *** *** ***");
  equal(redact("doc-signature base-secret"), "*** ***");
  equal(redact("v2 of http://x.example/y"), "v2 of http://x.example/y", "short values stay");
});
