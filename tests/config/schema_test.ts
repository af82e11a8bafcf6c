import { deepEqual, equal } from "node:assert/strict";
import { configSchema, parseConfig, serverObjectSchema } from "../../src/config/mod.ts";
import { assertRejects, envOf, noEnv, yaml } from "./_support.ts";

const parse = (text: string) => parseConfig(text, "c.yaml", noEnv);

/** A config with one server `a` at http://a whose entry gets `extra` lines (4-space indent). */
function server(...extra: string[]): string {
  return ["servers:", "  - name: a", "    url: http://a", ...extra.map((l) => `    ${l}`)]
    .join("\n") + "\n";
}

Deno.test("parseConfig() accepts IP literals and host names as host, without IPv6 brackets", () => {
  const cases: [string, string][] = [
    ["0.0.0.0", "0.0.0.0"],
    ["localhost", "localhost"],
    ["gateway.internal", "gateway.internal"],
    ["'::1'", "::1"],
    ["'[::1]'", "::1"],
    ["'[fe80::1:2]'", "fe80::1:2"],
  ];
  for (const [written, host] of cases) equal(parse(`host: ${written}\n`).host, host);
});

Deno.test("parseConfig() rejects a host that is neither an IP address nor a host name", () => {
  for (const host of ["not a host", "[127.0.0.1]", "999.1.1.1", "1.2.3", "-x.example", "::g"]) {
    assertRejects(
      `host: '${host}'\n`,
      `c.yaml:1:7: host: host '${host}' is neither an IP address nor a host name`,
    );
  }
  assertRejects("host: 8766\n", "c.yaml:1:7: host: expected a string, got 8766");
});

Deno.test("parseConfig() checks port", () => {
  equal(parse("port: 0\n").port, 0);
  equal(parse("port: 65535\n").port, 65535);
  assertRejects("port: 65536\n", "c.yaml:1:7: port: must be at most 65535, got 65536");
  assertRejects("port: -1\n", "c.yaml:1:7: port: must be at least 0, got -1");
  assertRejects("port: 80.5\n", "c.yaml:1:7: port: expected an integer, got 80.5");
  assertRejects("port: '8766'\n", "c.yaml:1:7: port: expected an integer, got '8766'");
});

Deno.test("parseConfig() accepts the mcp.auth modes in lowercase only", () => {
  equal(parse("mcp: {auth: {mode: none}}\n").mcp.auth.mode, "none");
  assertRejects(
    "mcp:\n  auth:\n    mode: Bearer\n",
    "c.yaml:3:11: mcp.auth.mode: expected one of 'none', 'bearer', 'keys', 'basic', got 'Bearer'",
  );
});

Deno.test("parseConfig() forbids mcp.auth.bearer_token, even with mode none", () => {
  const error = assertRejects(
    "mcp:\n  auth:\n    mode: none\n    bearer_token: s3cret\n",
    "c.yaml:4:5: mcp.auth.bearer_token: mcp.auth.bearer_token is not allowed: set " +
      "MCPSTEAD_BEARER_TOKEN in the environment instead",
  );
  equal(error.message.includes("s3cret"), false);
  // mcpstead ignored a bearer_token written without a value; so do we.
  equal(parse("mcp:\n  auth:\n    bearer_token:\n").mcp.auth.mode, "none");
});

Deno.test("parseConfig() requires positive session durations", () => {
  for (
    const key of [
      "idle_ttl_seconds",
      "unused_ttl_seconds",
      "gc_interval_seconds",
      "shutdown_grace_seconds",
    ]
  ) {
    assertRejects(
      `mcp:\n  session:\n    ${key}: 0\n`,
      `c.yaml:3:${key.length + 7}: mcp.session.${key}: must be at least 1, got 0`,
    );
  }
  deepEqual(parse("mcp: {session: {idle_ttl_seconds: 10}}\n").mcp.session, {
    idle_ttl_seconds: 10,
    unused_ttl_seconds: 60,
    gc_interval_seconds: 60,
    shutdown_grace_seconds: 5,
  });
});

Deno.test("parseConfig() checks max_body_bytes and page_size", () => {
  equal(parse("mcp: {max_body_bytes: 1024}\n").mcp.max_body_bytes, 1024);
  assertRejects(
    "mcp:\n  max_body_bytes: 1023\n",
    "c.yaml:2:19: mcp.max_body_bytes: must be at least 1024, got 1023",
  );
  equal(parse("mcp: {page_size: 10000}\n").mcp.page_size, 10000);
  assertRejects("mcp:\n  page_size: 0\n", "c.yaml:2:14: mcp.page_size: must be at least 1, got 0");
  assertRejects(
    "mcp:\n  page_size: 10001\n",
    "c.yaml:2:14: mcp.page_size: must be at most 10000, got 10001",
  );
});

Deno.test("parseConfig() accepts allowed_origins as URL origins, lowercased", () => {
  const config = parse(
    "mcp:\n  allowed_origins: ['https://App.Example.com', 'http://localhost:6274']\n",
  );
  deepEqual(config.mcp.allowed_origins, ["https://app.example.com", "http://localhost:6274"]);
});

Deno.test("parseConfig() rejects allowed_origins that are not origins", () => {
  const text = yaml`
    mcp:
      allowed_origins:
        - https://app.example.com/
        - ftp://files.example.com
        - app.example.com
  `;
  assertRejects(
    text,
    "c.yaml:3:7: mcp.allowed_origins[0]: origin 'https://app.example.com/' is not of the form " +
      "scheme://host[:port] (did you mean 'https://app.example.com'?)",
  );
  assertRejects(
    "mcp: {allowed_origins: [ftp://files.example.com]}\n",
    "c.yaml:1:25: mcp.allowed_origins[0]: origin 'ftp://files.example.com' is not of the form " +
      "scheme://host[:port]",
  );
});

Deno.test("parseConfig() requires a server name and a url or command, at the entry's start", () => {
  assertRejects(
    "servers:\n  - url: http://a\n",
    "c.yaml:2:5: servers[0].name: required key is missing",
  );
  assertRejects(
    "servers:\n  - name: a\n",
    "c.yaml:2:5: servers[0]: a server needs url (an MCP server over HTTP), command (an MCP server " +
      "over stdio) or openapi (an HTTP API described by an OpenAPI document)",
  );
  assertRejects(
    "servers:\n  - name:\n    url: http://a\n",
    "c.yaml:2:5: servers[0].name: expected a string, got an empty value",
  );
});

Deno.test("parseConfig() checks server names", () => {
  const cases: [string, string][] = [
    ["''", "server name cannot be empty"],
    ["a__b", "server name 'a__b' cannot contain '__'"],
    ["' padded'", "server name ' padded' cannot start or end with whitespace"],
    ["'padded '", "server name 'padded ' cannot start or end with whitespace"],
    ['"tab\\there"', "server name 'tab\\there' cannot contain control characters"],
    [
      "a_",
      "server name 'a_' cannot end with '_': its tools would be named 'a___<tool>', which the " +
      "scope 'a__*' of another server also matches; call it 'a'",
    ],
    [
      "linear.app.",
      "server name 'linear.app.' cannot end with '.': its tools would be named " +
      "'linear_app___<tool>', which the scope 'linear_app__*' of another server also matches; " +
      "call it 'linear.app'",
    ],
    [
      "a._b",
      "server name 'a._b' cannot have two characters other than letters, digits and '-' in a " +
      "row: tool names turn them into '__', the separator of <server>__<tool>; call it 'a-b'",
    ],
  ];
  for (const [written, reason] of cases) {
    assertRejects(
      `servers:\n  - name: ${written}\n    url: http://a\n`,
      `c.yaml:2:11: servers[0].name: ${reason}`,
    );
  }
  for (const name of ["github", "my_server-2", "_a", "Ünïcode", "with space", "linear.app"]) {
    equal(parse(`servers:\n  - name: ${name}\n    url: http://a\n`).servers[0]?.name, name);
  }
});

Deno.test("parseConfig() rejects a server whose tool names another server's scope glob matches", () => {
  assertRejects(
    "servers:\n  - name: a_b\n    url: http://a\n  - name: a.b\n    url: http://b\n",
    "c.yaml:4:11: servers[1].name: server names 'a_b' and 'a.b' both name their tools " +
      "'a_b__<tool>', so a scope cannot tell them apart: rename one",
  );
});

Deno.test("parseConfig() rejects duplicate server names at the second one", () => {
  const text = yaml`
    servers:
      - name: github
        url: http://a
      - name: other
        url: http://b
      - url: http://c
        name: github
  `;
  assertRejects(text, "c.yaml:7:11: servers[2].name: duplicate server name 'github'");
});

Deno.test("parseConfig() requires an absolute http: or https: url", () => {
  for (const url of ["ftp://example.com/mcp", "example.com/mcp", "/mcp", "http:/x", "''"]) {
    const shown = url === "''" ? "" : url;
    assertRejects(
      server().replace("http://a", url),
      `c.yaml:3:10: servers[0].url: url '${shown}' is not an absolute http: or https: URL`,
    );
  }
  equal(
    parse(server().replace("http://a", "HTTPS://a:8443/x?y=1")).servers[0]?.url,
    "HTTPS://a:8443/x?y=1",
  );
});

Deno.test("parseConfig() hides the password of a bad url", () => {
  assertRejects(
    server().replace("http://a", "ftp://user:hunter2@example.com/"),
    "c.yaml:3:10: servers[0].url: url 'ftp://***@example.com/' is not an absolute http: or " +
      "https: URL",
  );
});

Deno.test("parseConfig() checks protocol and timeout", () => {
  equal(parse(server("protocol: sse")).servers[0]?.protocol, "sse");
  equal(parse(server("protocol: streamable")).servers[0]?.protocol, "streamable");
  assertRejects(
    server("protocol: http"),
    "c.yaml:4:15: servers[0].protocol: expected one of 'auto', 'streamable', 'sse', got 'http'",
  );
  equal(parse(server("timeout: 0.5")).servers[0]?.timeout, 0.5);
  assertRejects(
    server("timeout: 0"),
    "c.yaml:4:14: servers[0].timeout: must be greater than 0, got 0",
  );
  assertRejects(
    server("timeout: 3000000"),
    "c.yaml:4:14: servers[0].timeout: must be at most 2147483, got 3000000",
  );
});

Deno.test("parseConfig() reads the other server settings", () => {
  const text = server(
    "required: true",
    "tls_skip_verify: true",
    "tls_ca_file: /etc/ssl/private-ca.pem",
    "reconnect: {max_attempts: 3, backoff_base_ms: 0, backoff_max_ms: 5000}",
    "tools: {ttl_seconds: 0}",
    "quirks: {normalize_sse_events: true, inject_accept_header: application/json}",
  );
  const [config] = parse(text).servers;
  equal(config?.required, true);
  equal(config?.tls_skip_verify, true);
  equal(config?.tls_ca_file, "/etc/ssl/private-ca.pem");
  deepEqual(config?.reconnect, { max_attempts: 3, backoff_base_ms: 0, backoff_max_ms: 5000 });
  deepEqual(config?.tools, { ttl_seconds: 0, include: ["*"], exclude: [], overrides: {} });
  deepEqual(config?.quirks, {
    normalize_sse_events: true,
    inject_accept_header: "application/json",
  });
  assertRejects(
    server("reconnect:", "  max_attempts: -1"),
    "c.yaml:5:21: servers[0].reconnect.max_attempts: must be at least 0, got -1",
  );
  assertRejects(
    server("required: yes"),
    "c.yaml:4:15: servers[0].required: expected true or false, got 'yes'",
  );
  assertRejects(server("tls_ca_file: ''"), "c.yaml:4:18: servers[0].tls_ca_file: cannot be empty");
});

Deno.test("parseConfig() normalizes every spelling of no upstream auth", () => {
  for (const written of ["auth: none", "auth:", "auth: {type: none}", "auth: ~"]) {
    deepEqual(parse(server(written)).servers[0]?.auth, { type: "none" });
  }
});

Deno.test("parseConfig() resolves bearer upstream auth from token_env", () => {
  const config = parseConfig(
    server("auth:", "  type: bearer", "  token_env: GITHUB_TOKEN"),
    "c.yaml",
    envOf({ GITHUB_TOKEN: "ghp_x" }),
  );
  deepEqual(config.servers[0]?.auth, { type: "bearer", token_env: "GITHUB_TOKEN", token: "ghp_x" });
});

Deno.test("parseConfig() rejects a token written in the upstream auth", () => {
  const error = assertRejects(
    server("auth:", "  type: bearer", "  token_env: X", "  token: ghp_secret"),
    "c.yaml:7:7: servers[0].auth.token: auth.token is not allowed: put the token in an " +
      "environment variable and name it in token_env",
  );
  equal(error.message.includes("ghp_secret"), false);
});

Deno.test("parseConfig() requires token_env for bearer upstream auth", () => {
  assertRejects(
    server("auth:", "  type: bearer"),
    "c.yaml:5:7: servers[0].auth.token_env: type 'bearer' needs token_env, the name of the " +
      "environment variable holding the token",
  );
});

Deno.test("parseConfig() rejects a token_env that is no variable name, without echoing it", () => {
  const error = assertRejects(
    server("auth: {type: bearer, token_env: 'ghp_abc def'}"),
    "c.yaml:4:37: servers[0].auth.token_env: token_env must be the name of an environment " +
      "variable (letters, digits and '_'), not the token itself",
  );
  equal(error.message.includes("ghp_abc"), false);
});

Deno.test("parseConfig() names the accepted upstream auth types", () => {
  assertRejects(
    server("auth: {type: oauth}"),
    "c.yaml:4:18: servers[0].auth.type: unsupported auth type 'oauth' (expected 'none' or " +
      "'bearer')",
  );
  assertRejects(
    server("auth: {token_env: X}"),
    "c.yaml:4:11: servers[0].auth.type: required key is missing",
  );
});

Deno.test("parseConfig() rejects any auth string but none, without echoing it", () => {
  for (const written of ["bearer", "ghp_secret", "5", "[none]"]) {
    const error = assertRejects(
      server(`auth: ${written}`),
      "c.yaml:4:11: servers[0].auth: auth must be 'none' or a mapping such as {type: bearer, " +
        "token_env: VAR}",
    );
    equal(error.message.includes("ghp_secret"), false);
  }
});

Deno.test("parseConfig() checks header names", () => {
  assertRejects(
    server("headers:", "  'X Bad': v"),
    "c.yaml:5:7: servers[0].headers[\"X Bad\"]: header name 'X Bad' is not a valid HTTP header " +
      "name",
  );
  assertRejects(
    server("headers:", "  X-Trace: a", "  x-trace: b"),
    "c.yaml:6:7: servers[0].headers.x-trace: duplicate header 'x-trace' (header names are " +
      "case-insensitive)",
  );
  assertRejects(
    server("headers:", "  X-Count: 5"),
    "c.yaml:5:16: servers[0].headers.X-Count: expected a string, got 5",
  );
});

Deno.test("parseConfig() rejects the headers the gateway sets itself", () => {
  for (
    const name of [
      "Mcp-Session-Id",
      "Content-Type",
      "content-length",
      "MCP-Protocol-Version",
      "Host",
    ]
  ) {
    assertRejects(
      server("headers:", `  ${name}: x`),
      `c.yaml:5:7: servers[0].headers.${name}: header '${name}' is set by the gateway`,
    );
  }
  assertRejects(
    server("headers:", "  Accept: text/plain"),
    "c.yaml:5:7: servers[0].headers.Accept: header 'Accept' is set by the gateway (use " +
      "quirks.inject_accept_header)",
  );
});

Deno.test("parseConfig() rejects an Authorization header next to bearer auth", () => {
  assertRejects(
    server("auth: {type: bearer, token_env: T}", "headers: {Authorization: x}"),
    "c.yaml:5:15: servers[0].headers.Authorization: header 'Authorization' conflicts with auth " +
      "type 'bearer' (keep one)",
    envOf({ T: "t" }),
  );
  const config = parseConfig(server("headers: {Authorization: Basic eA==}"), "c.yaml", noEnv);
  deepEqual(config.servers[0]?.headers, { Authorization: "Basic eA==" });
});

Deno.test("parseConfig() reads logging.level as a level or an EnvFilter directive", () => {
  const cases: [string, string][] = [
    ["trace", "trace"],
    ["DEBUG", "debug"],
    ["warning", "warn"],
    ["error", "error"],
    ["'mcpstead=debug,info'", "debug"],
    ["'warn,hyper=info'", "warn"],
    ["'info,mcpstead=trace,tower_http=debug'", "trace"],
    ["'hyper=debug'", "info"],
    ["''", "info"],
  ];
  for (const [written, level] of cases) {
    equal(parse(`logging: {level: ${written}}\n`).logging.level, level);
  }
});

Deno.test("parseConfig() names the accepted levels for an unknown one", () => {
  const accepted = "(expected trace, debug, info, warn or error, or a filter such as " +
    "'mcpstead=debug,info')";
  assertRejects(
    "logging:\n  level: verbose\n",
    `c.yaml:2:10: logging.level: unknown log level 'verbose' ${accepted}`,
  );
  assertRejects(
    "logging:\n  level: 'mcpstead=loud,info'\n",
    `c.yaml:2:10: logging.level: unknown log level 'loud' ${accepted}`,
  );
});

Deno.test("parseConfig() checks logging.format and metrics.enabled", () => {
  equal(parse("logging: {format: json}\n").logging.format, "json");
  assertRejects(
    "logging:\n  format: xml\n",
    "c.yaml:2:11: logging.format: expected one of 'auto', 'json', 'pretty', got 'xml'",
  );
  equal(parse("metrics: {enabled: false}\n").metrics.enabled, false);
  assertRejects(
    "metrics:\n  enabled: 1\n",
    "c.yaml:2:12: metrics.enabled: expected true or false, got 1",
  );
});

Deno.test("parseConfig() rejects unknown keys at the key, suggesting a near one", () => {
  assertRejects("prot: 1\n", "c.yaml:1:1: prot: unknown key 'prot' (did you mean 'port'?)");
  assertRejects(
    server("nmae: b"),
    "c.yaml:4:5: servers[0].nmae: unknown key 'nmae' (did you mean 'name'?)",
  );
  assertRejects(
    "mcp:\n  sesion:\n    idle_ttl_seconds: 5\n",
    "c.yaml:2:3: mcp.sesion: unknown key 'sesion' (did you mean 'session'?)",
  );
  assertRejects(
    server("quirks:", "  normalize_sse_event: true"),
    "c.yaml:5:7: servers[0].quirks.normalize_sse_event: unknown key 'normalize_sse_event' " +
      "(did you mean 'normalize_sse_events'?)",
  );
  assertRejects(
    server("auth: {type: none, tokenenv: X}"),
    "c.yaml:4:24: servers[0].auth.tokenenv: unknown key 'tokenenv' (did you mean 'token_env'?)",
  );
  assertRejects("colour: blue\n", "c.yaml:1:1: colour: unknown key 'colour'");
});

Deno.test("serverObjectSchema can be extended with new keys", () => {
  const extended = serverObjectSchema.extend({ prefix: serverObjectSchema.shape.required });
  const parsed = extended.parse({ name: "a", url: "http://a", prefix: true });
  equal(parsed.prefix, true);
  equal(parsed.protocol, "auto");
});

Deno.test("configSchema holds every default", () => {
  const config = configSchema.parse({ servers: [{ name: "a", url: "http://a" }] });
  equal(config.servers[0]?.quirks.inject_accept_header, "application/json, text/event-stream");
  deepEqual(config.servers[0]?.auth, { type: "none" });
  deepEqual(config.mcp.auth, { mode: "none", clients: [], users: [] });
});

Deno.test("parseConfig() accepts a stdio server and rejects mixing url and command", () => {
  const config = parseConfig(
    "servers:\n  - name: kid\n    command: deno\n    args: [run, x.ts]\n    env:\n      TOKEN: 't-${T}'\n    cwd: /tmp\n",
    "c.yaml",
    (name) => (name === "T" ? "1" : undefined),
  );
  const server = config.servers[0]!;
  equal(server.command, "deno");
  deepEqual(server.args, ["run", "x.ts"]);
  deepEqual(server.env, { TOKEN: "t-1" });
  equal(server.url, undefined);
  assertRejects(
    "servers:\n  - name: a\n    url: http://a\n    command: x\n",
    "c.yaml:4:5: servers[0].command: a server has one of url, command or openapi, not both url " +
      "and command (split it into two servers)",
  );
  assertRejects(
    "servers:\n  - name: a\n    url: http://a\n    args: [x]\n",
    "c.yaml:4:5: servers[0].args: args only applies to stdio servers (those with command)",
  );
  assertRejects(
    "servers:\n  - name: a\n    command: x\n    env:\n      1BAD: v\n",
    "c.yaml:5:7: servers[0].env[\"1BAD\"]: '1BAD' is not an environment variable name (letters, digits and '_')",
  );
  assertRejects(
    "servers:\n  - name: a\n    command: x\n    env:\n      K: '${MISSING}'\n",
    "c.yaml:5:10: servers[0].env.K: environment variable 'MISSING' is not set",
  );
});

Deno.test("parseConfig() reads API-key clients from the environment or as hashes, never from the file", () => {
  const hash = "a".repeat(64);
  const config = parseConfig(
    `mcp:\n  auth:\n    mode: keys\n    clients:\n      - name: ci\n        key_env: CI_KEY\n        tools: { allow: ["github__*"], deny: ["*__delete*"] }\n      - name: bot\n        key_sha256: ${hash.toUpperCase()}\n`,
    "c.yaml",
    (name) => (name === "CI_KEY" ? "secret" : undefined),
  );
  const auth = config.mcp.auth;
  equal(auth.mode, "keys");
  if (auth.mode !== "keys") return;
  equal(
    auth.clients[0]!.keySha256,
    "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
  );
  deepEqual(auth.clients[0]!.tools, { allow: ["github__*"], deny: ["*__delete*"] });
  deepEqual(auth.clients[1]!.prompts, { allow: ["*"], deny: [] });
  equal(auth.clients[1]!.keySha256, hash);
  assertRejects(
    `mcp:\n  auth:\n    mode: keys\n    clients:\n      - name: x\n        key_sha256: ${hash}\n        key: plain\n`,
    "c.yaml:7:9: mcp.auth.clients[0].key: a plaintext key is not allowed in the file: name an environment variable in key_env, or give key_sha256",
  );
  assertRejects(
    "mcp:\n  auth:\n    mode: keys\n    clients:\n      - name: x\n        key_env: MISSING\n",
    "c.yaml:6:18: mcp.auth.clients[0].key_env: environment variable 'MISSING' is not set",
  );
  assertRejects(
    "mcp:\n  auth:\n    mode: keys\n",
    "c.yaml:3:5: mcp.auth.clients: mode 'keys' needs at least one client",
  );
  assertRejects(
    "mcp:\n  auth:\n    mode: basic\n    users:\n      - name: u\n        password: hunter2\n",
    "c.yaml:5:9: mcp.auth.users[0].password_sha256: required key is missing",
  );
});
