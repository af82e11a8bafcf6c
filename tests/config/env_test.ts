import { deepEqual, equal } from "node:assert/strict";
import { expandEnv, parseConfig, validateConfig } from "../../src/config/mod.ts";
import { assertRejects, envOf, noEnv, yaml } from "./_support.ts";

const env = envOf({ HOST: "example.com", EMPTY: "", KEY: "k-123" });

Deno.test("expandEnv() expands ${VAR} and keeps '$$' and a lone '$' as '$'", () => {
  deepEqual(expandEnv("https://${HOST}/x", env), { value: "https://example.com/x" });
  deepEqual(expandEnv("${KEY}${KEY}", env), { value: "k-123k-123" });
  deepEqual(expandEnv("cost: $$5, $HOST, 5$, ${EMPTY}.", env), {
    value: "cost: $5, $HOST, 5$, .",
  });
  deepEqual(expandEnv("$${HOST}", env), { value: "${HOST}" });
  deepEqual(expandEnv("plain", env), { value: "plain" });
});

Deno.test("expandEnv() reports missing variables and bad references", () => {
  deepEqual(expandEnv("a ${NOPE} b", env), { error: "environment variable 'NOPE' is not set" });
  deepEqual(expandEnv("${1X}", env), { error: "invalid variable name '1X' in '${...}'" });
  deepEqual(expandEnv("${}", env), { error: "invalid variable name '' in '${...}'" });
  deepEqual(expandEnv("a ${HOST", env), {
    error: "unterminated '${' (write '$$' for a literal '$')",
  });
});

Deno.test("parseConfig() expands ${VAR} in header values from the environment", () => {
  const text = yaml`
    servers:
      - name: a
        url: http://a
        headers:
          X-API-Key: '\${KEY}'
          X-Price: '$$9 at \${HOST}'
  `;
  const config = parseConfig(text, "c.yaml", env);
  deepEqual(config.servers[0]?.headers, { "X-API-Key": "k-123", "X-Price": "$9 at example.com" });
});

Deno.test("parseConfig() names the missing variable and the header", () => {
  const text = yaml`
    servers:
      - name: custom
        url: https://api.example/mcp
        headers:
          X-API-Key: '\${EXAMPLE_KEY}'
  `;
  assertRejects(
    text,
    "c.yaml:5:18: servers[0].headers.X-API-Key: environment variable 'EXAMPLE_KEY' is not set",
  );
});

Deno.test("parseConfig() rejects a header value that expands to a line break", () => {
  const text = "servers:\n  - name: a\n    url: http://a\n    headers: {X-A: 'v\${NL}'}\n";
  const error = assertRejects(
    text,
    "c.yaml:4:20: servers[0].headers.X-A: the value of header 'X-A' contains a line break or " +
      "NUL character",
    envOf({ NL: "secret\r\nInjected: 1" }),
  );
  equal(error.message.includes("secret"), false);
});

Deno.test("parseConfig() reads the upstream token from token_env", () => {
  const text =
    "servers:\n  - name: a\n    url: http://a\n    auth: {type: bearer, token_env: TOK}\n";
  const config = parseConfig(text, "c.yaml", envOf({ TOK: "upstream-secret" }));
  deepEqual(config.servers[0]?.auth, {
    type: "bearer",
    token_env: "TOK",
    token: "upstream-secret",
  });
  assertRejects(
    text,
    "c.yaml:4:37: servers[0].auth.token_env: environment variable 'TOK' is not set",
  );
  assertRejects(
    text,
    "c.yaml:4:37: servers[0].auth.token_env: environment variable 'TOK' is empty",
    envOf({ TOK: "" }),
  );
});

Deno.test("parseConfig() reads the downstream token for mode bearer", () => {
  const text = "mcp:\n  auth:\n    mode: bearer\n";
  const config = parseConfig(text, "c.yaml", envOf({ MCPSTEAD_BEARER_TOKEN: "downstream" }));
  deepEqual(config.mcp.auth, { mode: "bearer", token: "downstream" });
  assertRejects(
    text,
    "c.yaml:3:11: mcp.auth.mode: mode 'bearer' needs the environment variable " +
      "MCPSTEAD_BEARER_TOKEN (it is not set)",
  );
  assertRejects(
    text,
    "c.yaml:3:11: mcp.auth.mode: mode 'bearer' needs the environment variable " +
      "MCPSTEAD_BEARER_TOKEN (it is empty)",
    envOf({ MCPSTEAD_BEARER_TOKEN: "" }),
  );
});

Deno.test("parseConfig() does not read MCPSTEAD_BEARER_TOKEN for mode none", () => {
  const asked: string[] = [];
  const config = parseConfig("mcp: {auth: {mode: none}}\n", "c.yaml", (name) => {
    asked.push(name);
    return "x";
  });
  deepEqual(config.mcp.auth, { mode: "none" });
  deepEqual(asked, []);
});

Deno.test("parseConfig() reports a variable it has no permission to read", () => {
  const denied = (name: string): string => {
    throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
  };
  assertRejects(
    "servers:\n  - name: a\n    url: http://a\n    auth: {type: bearer, token_env: TOK}\n",
    "c.yaml:4:37: servers[0].auth.token_env: Cannot read environment variable 'TOK': Requires " +
      'env access to "TOK"',
    denied,
  );
});

Deno.test("validateConfig() checks the environment of valid parts when others are invalid", () => {
  const text = yaml`
    mcp:
      auth: {mode: bearer}
    servers:
      - name: ok
        url: http://ok
        headers: {X-Key: '\${MISSING}'}
      - name: broken
        url: nope
        headers: {X-Key: '\${ALSO_MISSING}'}
  `;
  const { errors } = validateConfig(text, "c.yaml", noEnv);
  deepEqual(errors.map((error) => error.message), [
    "c.yaml:2:16: mcp.auth.mode: mode 'bearer' needs the environment variable " +
    "MCPSTEAD_BEARER_TOKEN (it is not set)",
    "c.yaml:6:22: servers[0].headers.X-Key: environment variable 'MISSING' is not set",
    "c.yaml:8:10: servers[1].url: url 'nope' is not an absolute http: or https: URL",
  ]);
});

Deno.test("parseConfig() lists every variable the config reads secrets from in secret_env", () => {
  const text = yaml`
    mcp:
      auth:
        mode: keys
        clients:
          - { name: ci, key_env: CI_KEY }
          - { name: other, key_sha256: ${"a".repeat(64)} }
    servers:
      - name: a
        url: http://a
        auth: { type: bearer, token_env: A_TOKEN }
        headers: { X-Team: "t-\${TEAM}" }
      - name: b
        command: run-b
        env: { B_KEY: "\${B_SOURCE}", PLAIN: "x" }
  `;
  const env = envOf({ CI_KEY: "k", A_TOKEN: "t", TEAM: "1", B_SOURCE: "s" });
  deepEqual(parseConfig(text, "c.yaml", env).secret_env, [
    "A_TOKEN",
    "B_SOURCE",
    "CI_KEY",
    "MCPSTEAD_BEARER_TOKEN",
    "TEAM",
  ]);
});
