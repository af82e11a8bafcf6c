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
