import { deepEqual, equal, match, throws } from "node:assert/strict";
import { importClientConfig, parseConfig } from "../../src/config/mod.ts";

const CLAUDE = JSON.stringify({
  mcpServers: {
    filesystem: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] },
    github: {
      command: "docker",
      args: ["run", "-i", "ghcr.io/github/github-mcp-server"],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: "${GH}" },
    },
    remote: { type: "http", url: "https://mcp.example.com/mcp", headers: { "X-Team": "a" } },
    legacy: { type: "sse", url: "https://old.example.com/sse" },
    "my__odd": { command: "odd" },
    off: { command: "x", disabled: true },
  },
});

Deno.test("importClientConfig() turns mcpServers into servers that load as an mcpstead config", () => {
  const yaml = importClientConfig(CLAUDE, "claude.json");
  match(yaml, /^# Imported from claude\.json by mcpstead import\./);
  match(yaml, /# Note: renamed 'my__odd' to 'my_odd'/);
  match(yaml, /# Note: skipped 'off': disabled/);
  match(yaml, /# Note: 'github': env values are copied as written/);
  const config = parseConfig(
    yaml,
    "imported.yaml",
    (name) => (name === "GH" ? "token" : undefined),
  );
  deepEqual(config.servers.map((s) => s.name), [
    "filesystem",
    "github",
    "remote",
    "legacy",
    "my_odd",
  ]);
  deepEqual(config.servers[0]!.args, ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]);
  deepEqual(config.servers[1]!.env, { GITHUB_PERSONAL_ACCESS_TOKEN: "token" });
  equal(config.servers[2]!.protocol, "streamable");
  deepEqual(config.servers[2]!.headers, { "X-Team": "a" });
  equal(config.servers[3]!.protocol, "sse");
});

Deno.test("importClientConfig() refuses files that are not client configs", () => {
  throws(() => importClientConfig("{", "x.json"), /x\.json: Cannot import: not JSON/);
  throws(() => importClientConfig("{}", "x.json"), /no "mcpServers" object found/);
});

Deno.test("importClientConfig() turns credentials in headers into variables, noting each, and never copies them", () => {
  const yaml = importClientConfig(
    JSON.stringify({
      mcpServers: {
        linear: {
          type: "http",
          url: "https://mcp.linear.app/mcp",
          headers: { Authorization: "Bearer lin_api_s3cret", "X-Team": "eng" },
        },
        stripe: {
          url: "https://mcp.stripe.com",
          headers: { "X-API-Key": "sk_live_s3cret", Cookie: "${STRIPE_COOKIE}" },
        },
      },
    }),
    "client.json",
  );
  match(yaml, /# Note: 'linear': its bearer token is read from \$LINEAR_TOKEN \(auth\.token_env\)/);
  match(yaml, /# Note: 'stripe': header 'X-API-Key' reads \$\{STRIPE_X_API_KEY\}/);
  equal(/s3cret/.test(yaml), false, "no credential from the client file is copied");
  const env: Record<string, string> = {
    LINEAR_TOKEN: "t1",
    STRIPE_X_API_KEY: "k1",
    STRIPE_COOKIE: "c1",
  };
  const config = parseConfig(yaml, "imported.yaml", (name) => env[name]);
  deepEqual(config.servers[0]!.auth, { type: "bearer", token_env: "LINEAR_TOKEN", token: "t1" });
  deepEqual(config.servers[0]!.headers, { "X-Team": "eng" });
  deepEqual(config.servers[1]!.headers, { "X-API-Key": "k1", Cookie: "c1" });
});

Deno.test("importClientConfig() renames servers whose names would make hashed tool names, and keeps names unique", () => {
  const yaml = importClientConfig(
    JSON.stringify({
      mcpServers: {
        "linear.app": { command: "a" },
        linear_app: { command: "b" },
        "my tools!": { command: "c" },
      },
    }),
    "client.json",
  );
  match(
    yaml,
    /# Note: renamed 'linear\.app' to 'linear_app' \(letters, digits, '_' and '-' keep its tool names readable instead of hashed\)/,
  );
  match(yaml, /# Note: renamed 'linear_app' to 'linear_app-2' \('linear_app' is taken\)/);
  match(yaml, /# Note: renamed 'my tools!' to 'my_tools'/);
  const config = parseConfig(yaml, "imported.yaml", () => undefined);
  deepEqual(config.servers.map((s) => s.name), ["linear_app", "linear_app-2", "my_tools"]);
});
