import { deepEqual } from "node:assert/strict";
import { diffConfigs, parseConfig } from "../../src/config/mod.ts";

const env = (vars: Record<string, string> = {}) => (name: string) => vars[name];
const load = (text: string, vars?: Record<string, string>) =>
  parseConfig(text, "c.yaml", env(vars));

const BASE = `servers:
  - name: keep
    url: http://127.0.0.1:1/mcp
  - name: soft
    url: http://127.0.0.1:2/mcp
  - name: hard
    url: http://127.0.0.1:3/mcp
  - name: gone
    url: http://127.0.0.1:4/mcp
  - name: token
    url: http://127.0.0.1:5/mcp
    auth: { type: bearer, token_env: T }
`;

Deno.test("diffConfigs() sorts servers into added, removed, restarted, updated and unchanged", () => {
  const before = load(BASE, { T: "one" });
  const after = load(
    BASE.replace("http://127.0.0.1:3/mcp", "http://127.0.0.1:33/mcp")
      .replace(
        "  - name: soft\n    url: http://127.0.0.1:2/mcp\n",
        "  - name: soft\n    url: http://127.0.0.1:2/mcp\n    timeout: 5\n    tools: { ttl_seconds: 10 }\n",
      )
      .replace(
        "  - name: gone\n    url: http://127.0.0.1:4/mcp\n",
        "  - name: new\n    command: sh\n",
      ),
    { T: "two" },
  );
  deepEqual(diffConfigs(before, after), {
    added: ["new"],
    removed: ["gone"],
    restarted: ["hard", "token"],
    updated: ["soft"],
    unchanged: ["keep"],
    restartRequired: [],
  });
});

Deno.test("diffConfigs() reports keys that need a restart", () => {
  const before = load("port: 1\nservers: []\n");
  const after = load(
    "port: 2\nhost: 0.0.0.0\nlogging:\n  level: debug\nmcp:\n  session:\n    idle_ttl_seconds: 5\n",
  );
  deepEqual(diffConfigs(before, after).restartRequired, ["host", "port", "logging", "mcp.session"]);
  deepEqual(diffConfigs(before, before).restartRequired, []);
});

Deno.test("diffConfigs() reports the server's connection limits as needing a restart", () => {
  const before = load("port: 1\n");
  const after = load(
    "port: 1\nmcp:\n  limits:\n    header_timeout_seconds: 5\n    idle_timeout_seconds: 9\n    max_connections: 8\n    max_header_bytes: 4096\n",
  );
  deepEqual(diffConfigs(before, after).restartRequired, [
    "mcp.limits.header_timeout_seconds",
    "mcp.limits.idle_timeout_seconds",
    "mcp.limits.max_connections",
  ]);
});
