import { deepEqual, equal } from "node:assert/strict";
import {
  configSecrets,
  createRedactor,
  diffConfigs,
  parseConfig,
  validateConfig,
} from "../../src/config/mod.ts";
import { envOf, yaml } from "./_support.ts";

const env = envOf({ REDIS_PASSWORD: "s3cret-pass", REDIS_HOST: "redis.internal" });

Deno.test("parseConfig() has no cluster section unless one is written", () => {
  equal(parseConfig("", "c.yaml", env).cluster, undefined);
});

Deno.test("parseConfig() reads cluster with its defaults and ${VAR} in redis_url", () => {
  const config = parseConfig(
    yaml`
      cluster:
        redis_url: "rediss://:\${REDIS_PASSWORD}@\${REDIS_HOST}:6380/2"
    `,
    "c.yaml",
    env,
  );
  deepEqual(config.cluster, {
    redis_url: "rediss://:s3cret-pass@redis.internal:6380/2",
    key_prefix: "mcpstead:",
  });
});

Deno.test("validateConfig() names the key of a bad redis_url and never shows the URL", () => {
  const { errors } = validateConfig(
    yaml`
      cluster:
        redis_url: "http://:\${REDIS_PASSWORD}@example.com"
    `,
    "c.yaml",
    env,
  );
  deepEqual(errors.map((e) => e.message), [
    "c.yaml:2:14: cluster.redis_url: redis_url must be a URL such as redis://host:6379/0 " +
    "(rediss:// for TLS; write a password as ${VAR})",
  ]);
});

Deno.test("validateConfig() checks key_prefix and advertise_url", () => {
  const { errors } = validateConfig(
    yaml`
      cluster:
        key_prefix: "has space"
        redis_url: "redis://localhost"
        advertise_url: "replica-2:8766"
    `,
    "c.yaml",
    env,
  );
  deepEqual(errors.map((e) => e.message), [
    "c.yaml:2:15: cluster.key_prefix: key_prefix must be 1 to 64 printable characters without spaces",
    "c.yaml:4:18: cluster.advertise_url: advertise_url 'replica-2:8766' is not an absolute " +
    "http: or https: URL",
  ]);
  const withSecret = validateConfig(
    yaml`
      cluster:
        redis_url: "redis://localhost"
        advertise_url: "http://ops:\${REDIS_PASSWORD}@10.0.0.5:8766/?token=abc"
    `,
    "c.yaml",
    env,
  );
  deepEqual(withSecret.errors.map((e) => e.message), [
    "c.yaml:3:18: cluster.advertise_url: advertise_url 'http://***@10.0.0.5:8766/?token=***' " +
    "must have no user name, password, query or fragment (/health shows it to anyone)",
  ]);
});

Deno.test("validateConfig() reports an unset variable in redis_url", () => {
  const { errors } = validateConfig(
    yaml`
      cluster:
        redis_url: "redis://:\${NOT_SET}@localhost:6379"
    `,
    "c.yaml",
    env,
  );
  deepEqual(errors.map((e) => e.message), [
    "c.yaml:2:14: cluster.redis_url: environment variable 'NOT_SET' is not set",
  ]);
});

Deno.test("configSecrets() hides the Redis password wherever it appears", () => {
  const config = parseConfig(
    yaml`
      cluster:
        redis_url: "redis://user:\${REDIS_PASSWORD}@localhost:6379/0"
    `,
    "c.yaml",
    env,
  );
  const redact = createRedactor(configSecrets(config));
  equal(redact("auth failed for s3cret-pass"), "auth failed for ***");
  equal(
    redact("connect redis://user:s3cret-pass@localhost:6379/0 refused"),
    "connect redis://***@localhost:6379/0 refused",
  );
});

Deno.test("diffConfigs() says a changed cluster section needs a restart", () => {
  const before = parseConfig("cluster:\n  redis_url: redis://a:6379\n", "c.yaml", env);
  const after = parseConfig("cluster:\n  redis_url: redis://b:6379\n", "c.yaml", env);
  deepEqual(diffConfigs(before, after).restartRequired, ["cluster"]);
});
