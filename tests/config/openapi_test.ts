import { deepEqual, equal } from "node:assert/strict";
import { diffConfigs, parseConfig } from "../../src/config/mod.ts";
import { assertRejects, envOf, noEnv } from "./_support.ts";

/** A config with one server `a` whose entry is `lines` (4-space indent). */
function server(...lines: string[]): string {
  return ["servers:", "  - name: a", ...lines.map((l) => `    ${l}`)].join("\n") + "\n";
}

Deno.test("parseConfig() accepts an openapi server from a URL or a file, with base_url and ${VAR} headers", () => {
  const config = parseConfig(
    server(
      "openapi: https://api.example.com/openapi.json",
      "base_url: https://api.example.com/v2",
      "headers:",
      "  Authorization: 'Bearer ${API_TOKEN}'",
    ),
    "c.yaml",
    envOf({ API_TOKEN: "t0k" }),
  );
  const [api] = config.servers;
  equal(api!.openapi, "https://api.example.com/openapi.json");
  equal(api!.base_url, "https://api.example.com/v2");
  equal(api!.url, undefined);
  deepEqual(api!.headers, { Authorization: "Bearer t0k" });
  const file = parseConfig(server("openapi: specs/petstore.yaml"), "c.yaml", noEnv).servers[0]!;
  equal(file.openapi, "specs/petstore.yaml");
  equal(file.base_url, undefined);
});

Deno.test("parseConfig() wants exactly one of url, command and openapi", () => {
  assertRejects(
    server("openapi: https://a/openapi.json", "url: http://a/mcp"),
    "c.yaml:3:5: servers[0].openapi: a server has one of url, command or openapi, not both url and " +
      "openapi (split it into two servers)",
  );
  assertRejects(
    server("command: x", "openapi: spec.yaml"),
    "c.yaml:4:5: servers[0].openapi: a server has one of url, command or openapi, not both " +
      "command and openapi (split it into two servers)",
  );
  assertRejects(
    server("openapi:"),
    "c.yaml:2:5: servers[0]: a server needs url (an MCP server over HTTP), command (an MCP " +
      "server over stdio) or openapi (an HTTP API described by an OpenAPI document)",
  );
});

Deno.test("parseConfig() checks openapi and base_url values", () => {
  assertRejects(
    server("openapi: ftp://files.example.com/openapi.json"),
    "c.yaml:3:14: servers[0].openapi: openapi 'ftp://files.example.com/openapi.json' is " +
      "neither an http: or https: URL nor a file path",
  );
  assertRejects(
    server("openapi: spec.yaml", "base_url: /v1"),
    "c.yaml:4:15: servers[0].base_url: base_url '/v1' is not an absolute http: or https: URL",
  );
});

Deno.test("parseConfig() rejects keys an openapi server does not use", () => {
  const cases: [string, string][] = [
    ["session: per_client", "session applies to MCP servers, not to openapi servers"],
    ["sharing: per_session", "sharing applies to MCP servers, not to openapi servers"],
    ["protocol: sse", "protocol applies to MCP servers, not to openapi servers"],
    [
      "quirks: {normalize_sse_events: true}",
      "quirks applies to MCP servers, not to openapi servers",
    ],
    ["args: [x]", "args only applies to stdio servers (those with command)"],
    ["inherit_env: true", "inherit_env only applies to stdio servers (those with command)"],
  ];
  for (const [line, message] of cases) {
    const key = line.slice(0, line.indexOf(":"));
    assertRejects(server("openapi: spec.yaml", line), `c.yaml:4:5: servers[0].${key}: ${message}`);
  }
  assertRejects(
    server("url: http://a/mcp", "base_url: http://a/v1"),
    "c.yaml:4:5: servers[0].base_url: base_url only applies to openapi servers (it replaces " +
      "the document's servers[0].url)",
  );
});

Deno.test("diffConfigs() restarts an openapi server whose document or base_url changed", () => {
  const load = (doc: string, base: string, timeout: number) =>
    parseConfig(
      "servers:\n" +
        `  - name: doc\n    openapi: ${doc}\n` +
        `  - name: base\n    openapi: spec.yaml\n    base_url: ${base}\n` +
        `  - name: soft\n    openapi: spec.yaml\n    timeout: ${timeout}\n`,
      "c.yaml",
      noEnv,
    );
  const before = load("spec.yaml", "http://127.0.0.1:9/v1", 60);
  const after = load("other.yaml", "http://127.0.0.1:9/v2", 5);
  deepEqual(diffConfigs(before, after), {
    added: [],
    removed: [],
    restarted: ["doc", "base"],
    updated: ["soft"],
    unchanged: [],
    restartRequired: [],
  });
});
