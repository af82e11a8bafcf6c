import assert from "node:assert/strict";
import { parseConfig } from "../src/config/mod.ts";
import {
  canSignalProcessGroups,
  configNeeds,
  describeMissing,
  discoverConfig,
  missingPermissions,
  permissionFlags,
  type PermissionQuery,
  trackEnv,
} from "../src/permissions.ts";

/** A permission query that grants exactly the descriptors listed as "kind:value". */
function granting(...granted: string[]): PermissionQuery {
  return (d) => {
    const value = d.name === "net"
      ? d.host
      : d.name === "read"
      ? d.path
      : d.name === "env"
      ? d.variable
      : d.name === "run"
      ? d.command
      : undefined;
    return granted.includes(value === undefined ? d.name : `${d.name}:${value}`)
      ? "granted"
      : "prompt";
  };
}

const env = (name: string) => ({ GH: "t0ken", REGION: "eu" })[name];

Deno.test("configNeeds() lists listen address, upstream host:port, commands, CA files and variables", () => {
  const config = parseConfig(
    `host: "::1"\nport: 9000\nservers:\n` +
      `  - name: gh\n    url: https://api.example.com/mcp\n    tls_ca_file: /etc/ca.pem\n` +
      `    auth: {type: bearer, token_env: GH}\n    headers: {X-Region: "\${REGION}"}\n` +
      `  - name: local\n    url: http://localhost:3000/mcp\n` +
      `  - name: rel\n    command: ./bin/server\n    cwd: /srv/tools/\n` +
      `  - name: bare\n    command: npx\n`,
    "c.yaml",
    env,
  );
  const flags = permissionFlags(configNeeds(config, "c.yaml", ["REGION", "GH"]));
  assert.deepEqual(flags, [
    "--allow-net=[::1]:9000,api.example.com:443,localhost:3000",
    "--allow-read=c.yaml,/etc/ca.pem",
    "--allow-env=LOG_TOKENS,LOG_STREAM,REGION,GH,PATH",
    "--allow-run=/srv/tools/bin/server,npx",
  ]);
});

Deno.test("configNeeds() covers an OpenAPI upstream's document (URL or file) and base_url", () => {
  const config = parseConfig(
    "servers:\n  - name: pets\n    openapi: https://specs.example.com/pets.yaml\n" +
      "  - name: crm\n    openapi: specs/crm.json\n    base_url: http://crm.internal:8080/v2\n",
    "c",
  );
  assert.deepEqual(permissionFlags(configNeeds(config, "c")), [
    "--allow-net=127.0.0.1:8766,specs.example.com:443,crm.internal:8080",
    "--allow-read=c,specs/crm.json",
    "--allow-env=LOG_TOKENS,LOG_STREAM",
  ]);
});

Deno.test("configNeeds() covers the cluster store (default port 6379) and the environment its client lists", () => {
  const config = parseConfig("cluster:\n  redis_url: rediss://redis.internal/0\n", "c");
  assert.deepEqual(permissionFlags(configNeeds(config, "c")), [
    "--allow-net=127.0.0.1:8766,redis.internal:6379",
    "--allow-read=c",
    "--allow-env",
  ]);
});

Deno.test("configNeeds() asks for the host name of a replica on a wildcard address unless it has advertise_url", () => {
  const yaml = (extra: string) =>
    parseConfig(
      `host: 0.0.0.0\nmcp:\n  allow_unauthenticated_remote: true\ncluster:\n  redis_url: redis://r:6380/0\n${extra}`,
      "c",
    );
  assert.deepEqual(permissionFlags(configNeeds(yaml(""), "c")), [
    "--allow-net=0.0.0.0:8766,r:6380",
    "--allow-read=c",
    "--allow-env",
    "--allow-sys=hostname",
  ]);
  assert.deepEqual(
    permissionFlags(configNeeds(yaml("  advertise_url: http://10.0.0.5:8766\n"), "c")).at(-1),
    "--allow-env",
  );
});

Deno.test("configNeeds() needs the whole environment, and no PATH, when every stdio server inherits it", () => {
  const config = parseConfig("servers:\n  - name: a\n    command: x\n    inherit_env: true\n", "c");
  const needs = configNeeds(config, "c");
  assert.deepEqual(permissionFlags(needs), [
    "--allow-net=127.0.0.1:8766",
    "--allow-read=c",
    "--allow-env",
    "--allow-run=x",
  ]);
  const listed = granting(
    "read:c",
    "env:LOG_TOKENS",
    "env:LOG_STREAM",
    "net:127.0.0.1:8766",
    "run:x",
  );
  assert.equal(
    describeMissing(missingPermissions(needs, listed), needs),
    "missing permission: run with --allow-env (needed for inherit_env of upstream 'a': every variable)",
  );
});

Deno.test("describeMissing() names every value of a flag that lacks one, and why", () => {
  const config = parseConfig("servers:\n  - name: up\n    url: http://127.0.0.1:9/mcp\n", "c");
  const needs = configNeeds(config, "c");
  const query = granting("read:c", "env:LOG_TOKENS", "env:LOG_STREAM", "net:127.0.0.1:8766");
  const missing = missingPermissions(needs, query);
  assert.equal(
    describeMissing(missing, needs),
    "missing permission: run with --allow-net=127.0.0.1:8766,127.0.0.1:9 " +
      "(needed for upstream 'up': 127.0.0.1:9)",
  );
  assert.deepEqual(missingPermissions(needs, () => "granted"), []);
});

Deno.test("discoverConfig() reports the variables and files it was not allowed to look at", () => {
  const read = (name: string) => ({ HOME: "/home/u" })[name];
  const blind = discoverConfig(undefined, read, () => true, granting());
  assert.equal(blind.path, undefined);
  assert.deepEqual(permissionFlags(blind.missing), [
    "--allow-read=./mcpstead.yaml,/etc/mcpstead/config.yaml",
    "--allow-env=MCPSTEAD_CONFIG,HOME",
  ]);
  const query = granting(
    "env:MCPSTEAD_CONFIG",
    "env:HOME",
    "read:./mcpstead.yaml",
    "read:/home/u/.config/mcpstead/config.yaml",
  );
  const found = discoverConfig(undefined, read, (p) => p.startsWith("/home"), query);
  assert.deepEqual(found, {
    path: "/home/u/.config/mcpstead/config.yaml",
    needs: found.needs,
    missing: [],
  });
  assert.deepEqual(discoverConfig("x.yaml", read, () => false, granting()), {
    path: "x.yaml",
    needs: [],
    missing: [],
  });
});

Deno.test("trackEnv() records names and hides variables it may not read", () => {
  const tracked = trackEnv(env, granting("env:GH"));
  assert.equal(tracked.env("GH"), "t0ken");
  assert.equal(
    tracked.env("REGION"),
    "(no permission to read this variable)",
    "a placeholder, never the value, so the load goes on and the preflight names the flag",
  );
  assert.deepEqual([...tracked.names], ["GH", "REGION"]);
  const strict = trackEnv(() => {
    throw new Error("Requires env access");
  });
  assert.throws(() => strict.env("A"), /Requires env access/, "without a query, read decides");
  assert.deepEqual([...strict.names], ["A"]);
});

Deno.test("canSignalProcessGroups() needs --allow-run for all commands", () => {
  assert.equal(canSignalProcessGroups(granting("run:deno")), false);
  assert.equal(canSignalProcessGroups(granting("run")), true);
});
