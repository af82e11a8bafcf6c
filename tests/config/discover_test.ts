import { deepEqual, equal } from "node:assert/strict";
import { resolveConfigPath } from "../../src/config/mod.ts";
import { envOf, noEnv } from "./_support.ts";

const all = (_path: string) => true;
const none = (_path: string) => false;
const only = (...paths: string[]) => (path: string) => paths.includes(path);

Deno.test("resolveConfigPath() prefers the --config flag, even when the file is missing", () => {
  const env = envOf({ MCPSTEAD_CONFIG: "/from/env.yaml" });
  deepEqual(resolveConfigPath({ flag: "/from/flag.yaml", env, exists: none, home: "/home/u" }), {
    path: "/from/flag.yaml",
    source: "flag",
  });
});

Deno.test("resolveConfigPath() uses MCPSTEAD_CONFIG next, even when the file is missing", () => {
  const env = envOf({ MCPSTEAD_CONFIG: "/from/env.yaml" });
  deepEqual(resolveConfigPath({ env, exists: all, home: "/home/u" }), {
    path: "/from/env.yaml",
    source: "env",
  });
});

Deno.test("resolveConfigPath() treats an empty MCPSTEAD_CONFIG as unset", () => {
  const env = envOf({ MCPSTEAD_CONFIG: "" });
  deepEqual(resolveConfigPath({ env, exists: all }), {
    path: "./mcpstead.yaml",
    source: "default",
  });
});

Deno.test("resolveConfigPath() tries the default places in order", () => {
  const home = "/home/u";
  const local = "./mcpstead.yaml";
  const user = "/home/u/.config/mcpstead/config.yaml";
  const system = "/etc/mcpstead/config.yaml";
  const pick = (exists: (path: string) => boolean) =>
    resolveConfigPath({ env: noEnv, exists, home })?.path;
  equal(pick(all), local);
  equal(pick(only(user, system)), user);
  equal(pick(only(system)), system);
  equal(pick(none), undefined);
});

Deno.test("resolveConfigPath() asks about the default places in order", () => {
  const asked: string[] = [];
  resolveConfigPath({ env: noEnv, exists: (path) => (asked.push(path), false), home: "/home/u/" });
  deepEqual(asked, [
    "./mcpstead.yaml",
    "/home/u/.config/mcpstead/config.yaml",
    "/etc/mcpstead/config.yaml",
  ]);
});

Deno.test("resolveConfigPath() skips the user config without a home", () => {
  const asked: string[] = [];
  const found = resolveConfigPath({ env: noEnv, exists: (path) => (asked.push(path), false) });
  equal(found, undefined);
  deepEqual(asked, ["./mcpstead.yaml", "/etc/mcpstead/config.yaml"]);
});
