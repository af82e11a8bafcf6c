import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import {
  type Config,
  ConfigError,
  loadConfig,
  parseConfig,
  validateConfig,
} from "../../src/config/mod.ts";
import { assertRejects, envOf, noEnv, yaml } from "./_support.ts";

const DEFAULTS: Config = {
  host: "127.0.0.1",
  port: 8766,
  namespacing: "always",
  mcp: {
    auth: { mode: "none" },
    session: {
      idle_ttl_seconds: 3600,
      unused_ttl_seconds: 60,
      gc_interval_seconds: 60,
      shutdown_grace_seconds: 5,
    },
    max_body_bytes: 4_194_304,
    page_size: 500,
    allowed_origins: [],
    allowed_hosts: [],
    allow_unauthenticated_remote: false,
    rate_limit: { requests_per_second: 0, burst: 0 },
    tools_mode: "direct",
    pinned: [],
    limits: {
      max_json_depth: 64,
      max_json_values: 100_000,
      max_batch: 100,
      max_header_bytes: 16_384,
      header_timeout_seconds: 30,
      idle_timeout_seconds: 60,
      max_connections: 1024,
      max_sessions_per_client: 100,
      max_sessions: 10_000,
      max_initialize_bytes: 65_536,
      body_timeout_seconds: 30,
      stream_buffer_bytes: 1_048_576,
    },
  },
  servers: [],
  metrics: { enabled: true },
  logging: { level: "info", format: "auto" },
  secret_env: ["MCPSTEAD_BEARER_TOKEN"],
};

const SERVER_DEFAULTS = {
  args: [],
  env: {},
  inherit_env: false,
  sharing: "shared",
  max_instances: 32,
  session: "shared",
  prefix: true,
  protocol: "auto",
  era: "auto",
  required: false,
  timeout: 60,
  tls_skip_verify: false,
  auth: { type: "none" },
  headers: {},
  reconnect: { max_attempts: 0, backoff_base_ms: 1000, backoff_max_ms: 30_000 },
  tools: { ttl_seconds: 300, include: ["*"], exclude: [], overrides: {} },
  retry: { attempts: 2, backoff_base_ms: 100, backoff_max_ms: 2000, tools: [], budget: 0.1 },
  circuit_breaker: { failures: 5, window_seconds: 30, open_seconds: 30 },
  rate_limit: { requests_per_second: 0, burst: 0 },
  max_concurrent: 0,
  max_queue: 100,
  quirks: {
    normalize_sse_events: false,
    inject_accept_header: "application/json, text/event-stream",
  },
} as const;

Deno.test("parseConfig() gives the all-defaults config for an empty file", () => {
  deepEqual(parseConfig("", "c.yaml", noEnv), DEFAULTS);
  deepEqual(parseConfig("# only a comment\n", "c.yaml", noEnv), DEFAULTS);
  deepEqual(parseConfig("~\n", "c.yaml", noEnv), DEFAULTS);
});

Deno.test("parseConfig() gives keys written without a value their defaults", () => {
  const text = yaml`
    host:
    mcp:
    servers:
    metrics:
    logging:
      level:
  `;
  deepEqual(parseConfig(text, "c.yaml", noEnv), DEFAULTS);
  deepEqual(parseConfig("mcp:\n  auth:\n  session:\n", "c.yaml", noEnv), DEFAULTS);
});

Deno.test("parseConfig() fills the defaults of a minimal server", () => {
  const config = parseConfig("servers:\n  - name: a\n    url: http://a/mcp\n", "c.yaml", noEnv);
  deepEqual(config.servers, [{ name: "a", url: "http://a/mcp", ...SERVER_DEFAULTS }]);
});

Deno.test("loadConfig() loads a Rust mcpstead config unchanged", async () => {
  const path = new URL("./fixtures/rust_mcpstead.yaml", import.meta.url).pathname;
  const env = envOf({
    MCPSTEAD_BEARER_TOKEN: "downstream-secret",
    WORKFLOW_TOKEN: "upstream-secret",
    EXAMPLE_KEY: "key-123",
  });
  const config = await loadConfig(path, { env });
  deepEqual(config, {
    ...DEFAULTS,
    secret_env: ["EXAMPLE_KEY", "MCPSTEAD_BEARER_TOKEN", "WORKFLOW_TOKEN"],
    host: "0.0.0.0",
    mcp: { ...DEFAULTS.mcp, auth: { mode: "bearer", token: "downstream-secret" } },
    servers: [
      {
        ...SERVER_DEFAULTS,
        name: "local",
        url: "http://127.0.0.1:3000/mcp",
        protocol: "streamable",
        quirks: {
          normalize_sse_events: true,
          inject_accept_header: "application/json, text/event-stream",
        },
      },
      {
        ...SERVER_DEFAULTS,
        name: "workflow",
        url: "https://workflow.example/mcp-server/http",
        auth: { type: "bearer", token_env: "WORKFLOW_TOKEN", token: "upstream-secret" },
      },
      {
        ...SERVER_DEFAULTS,
        name: "custom",
        url: "https://api.example/mcp",
        headers: { "X-API-Key": "key-123" },
      },
    ],
    logging: { level: "debug", format: "auto" },
  });
});

Deno.test("parseConfig() reports a YAML syntax error at its position", () => {
  assertRejects(
    "host: 127.0.0.1\nservers: [\n",
    "c.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
  );
  assertRejects("\tport: 1\n", "c.yaml:1:1: Tabs are not allowed as indentation");
});

Deno.test("parseConfig() rejects duplicate keys at the second one", () => {
  assertRejects("port: 1\nhost: a\nport: 2\n", "c.yaml:3:1: port: duplicate key 'port'");
  const text = yaml`
    servers:
      - name: a
        url: http://a
        name: b
  `;
  assertRejects(text, "c.yaml:4:5: servers[0].name: duplicate key 'name'");
});

Deno.test("parseConfig() rejects an alias whose anchor is missing", () => {
  assertRejects("host: *nowhere\n", "c.yaml:1:7: alias '*nowhere' has no anchor before it");
});

Deno.test("parseConfig() follows YAML anchors and aliases", () => {
  const text = yaml`
    servers:
      - name: a
        url: http://a
        reconnect: &fast {backoff_base_ms: 10}
      - name: b
        url: http://b
        reconnect: *fast
  `;
  const config = parseConfig(text, "c.yaml", noEnv);
  equal(config.servers[1]?.reconnect.backoff_base_ms, 10);
});

Deno.test("parseConfig() rejects several YAML documents", () => {
  assertRejects(
    "port: 1\n---\nport: 2\n",
    "c.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()",
  );
});

Deno.test("parseConfig() rejects a key that is a list or mapping", () => {
  assertRejects(
    "port: 1\n? [a, b]\n: 1\n",
    "c.yaml:2:3: a key must be a plain value, not a list or mapping",
  );
});

Deno.test("parseConfig() rejects a document that is not a mapping", () => {
  assertRejects("- host\n", "c.yaml:1:1: expected a mapping, got a list");
  assertRejects("just text\n", "c.yaml:1:1: expected a mapping, got 'just text'");
});

Deno.test("parseConfig() throws the first error in document order", () => {
  // The schema checks `port` before `servers`, but `servers` comes first in the file.
  const text = yaml`
    servers:
      - name: a
    port: -1
  `;
  assertRejects(
    text,
    "c.yaml:2:5: servers[0]: a server needs url (an MCP server over HTTP), command (an MCP server " +
      "over stdio) or openapi (an HTTP API described by an OpenAPI document)",
  );
});

Deno.test("validateConfig() collects every error in document order", () => {
  const text = yaml`
    port: 70000
    servers:
      - name: a__b
        url: ftp://example.com
      - nmae: c
        url: http://c
      - name: a__b
        url: http://d
        auth: {type: bearer, token_env: D_TOKEN}
      - name: e
        url: http://e
        auth: {type: bearer, token_env: E_TOKEN}
    logging:
      level: loud
  `;
  const { config, errors } = validateConfig(text, "c.yaml", noEnv);
  equal(config, undefined);
  deepEqual(errors.map((error) => error.message), [
    "c.yaml:1:7: port: must be at most 65535, got 70000",
    "c.yaml:3:11: servers[0].name: server name 'a__b' cannot contain '__'",
    "c.yaml:4:10: servers[0].url: url 'ftp://example.com' is not an absolute http: or https: URL",
    "c.yaml:5:5: servers[1].name: required key is missing",
    "c.yaml:5:5: servers[1].nmae: unknown key 'nmae' (did you mean 'name'?)",
    "c.yaml:7:11: servers[2].name: server name 'a__b' cannot contain '__'",
    "c.yaml:7:11: servers[2].name: duplicate server name 'a__b'",
    "c.yaml:12:37: servers[3].auth.token_env: environment variable 'E_TOKEN' is not set",
    "c.yaml:14:10: logging.level: unknown log level 'loud' (expected trace, debug, info, warn " +
    "or error, or a filter such as 'mcpstead=debug,info')",
  ]);
  ok(errors.every((error) => error instanceof ConfigError));
});

Deno.test("validateConfig() returns the config and no errors for a valid file", () => {
  const result = validateConfig("port: 9000\n", "c.yaml", noEnv);
  deepEqual(result, { config: { ...DEFAULTS, port: 9000 }, errors: [] });
});

Deno.test("validateConfig() gives each error its file, position, path and reason", () => {
  const [error] = validateConfig("mcp:\n  page_size: 0\n", "dir/c.yaml", noEnv).errors;
  ok(error instanceof ConfigError);
  ok(error instanceof SyntaxError);
  equal(error.name, "ConfigError");
  equal(error.file, "dir/c.yaml");
  equal(error.line, 2);
  equal(error.column, 14);
  equal(error.path, "mcp.page_size");
  equal(error.reason, "must be at least 1, got 0");
  equal(error.message, "dir/c.yaml:2:14: mcp.page_size: must be at least 1, got 0");
});

Deno.test("ConfigError() leaves out an empty path and a missing position", () => {
  equal(new ConfigError("c.yaml", 3, 4, "", "bad").message, "c.yaml:3:4: bad");
  equal(new ConfigError("c.yaml", 3, 4, "port", "bad").message, "c.yaml:3:4: port: bad");
  equal(new ConfigError("c.yaml", 0, 0, "", "bad").message, "c.yaml: bad");
});

Deno.test("loadConfig() reads the file through the injected reader", async () => {
  const read: string[] = [];
  const config = await loadConfig("/etc/mcpstead/config.yaml", {
    env: envOf({ MCPSTEAD_BEARER_TOKEN: "t" }),
    readTextFile: (path) => {
      read.push(path);
      return Promise.resolve("mcp:\n  auth:\n    mode: bearer\n");
    },
  });
  deepEqual(read, ["/etc/mcpstead/config.yaml"]);
  deepEqual(config.mcp.auth, { mode: "bearer", token: "t" });
});

Deno.test("loadConfig() names the file in its errors", async () => {
  await rejects(
    loadConfig("conf/x.yaml", { env: noEnv, readTextFile: () => Promise.resolve("prot: 1\n") }),
    {
      name: "ConfigError",
      message: "conf/x.yaml:1:1: prot: unknown key 'prot' (did you mean 'port'?)",
    },
  );
});

Deno.test("loadConfig() turns a missing file into a ConfigError without a position, naming the whole path", async () => {
  const missing = `${await Deno.makeTempDir()}/${"a-rather-long-directory-name/".repeat(4)}x.yaml`;
  const error = await loadConfig(missing, { env: noEnv }).then(
    () => undefined,
    (error: unknown) => error,
  );
  ok(error instanceof ConfigError);
  equal(error.line, 0);
  equal(error.path, "");
  equal(error.reason, `Cannot read config '${missing}': no such file`);
  equal(error.message, `${missing}: Cannot read config '${missing}': no such file`);
});

Deno.test("loadConfig() reports why a file cannot be read", async () => {
  const cases: [Error, string][] = [
    [new Deno.errors.PermissionDenied("denied"), "permission denied"],
    [new Deno.errors.IsADirectory("dir"), "is a directory"],
    [new Error("disk on fire"), "disk on fire"],
  ];
  for (const [thrown, why] of cases) {
    await rejects(
      loadConfig("c.yaml", { env: noEnv, readTextFile: () => Promise.reject(thrown) }),
      { name: "ConfigError", message: `c.yaml: Cannot read config 'c.yaml': ${why}` },
    );
  }
});
