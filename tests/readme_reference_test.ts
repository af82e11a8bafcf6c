/**
 * README.md's reference tables against the code: every config key of the schema is in a table
 * (and named in config.example.yaml), every key a table names is real and its default is the
 * schema's, and the metrics table names every family `GET /metrics` can show.
 */
import * as assert from "node:assert/strict";
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { configSchema } from "../src/config/schema.ts";
import { createGatewayMetrics, render } from "../src/metrics/mod.ts";
import { Cluster } from "../src/state/cluster.ts";
import { silentLogger } from "../src/log.ts";
import { systemClock } from "../src/upstream/clock.ts";

const README = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
const EXAMPLE = Deno.readTextFileSync(new URL("../config.example.yaml", import.meta.url));

/** One row of a README table whose first column is "key". */
interface KeyRow {
  line: number;
  keys: string[];
  defaults: string;
}

/** Every key path of the schema (`servers[].retry.budget`): leaves, and the sections above them. */
function schemaPaths(): { leaves: Set<string>; sections: Set<string> } {
  const json = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  const leaves = new Set<string>();
  const sections = new Set<string>();
  const visit = (node: JsonNode, path: string) => {
    const members = node.anyOf ?? [node];
    const objects = members.filter((member) => member.properties !== undefined);
    if (objects.length === 0 || objects.length < members.length) {
      // A scalar, a mapping of any names (headers, env, overrides) or a scalar-or-mapping (auth).
      if (Object.keys(node).length > 0) leaves.add(path);
      return;
    }
    if (path !== "") sections.add(path);
    for (const object of objects) {
      for (const [key, child] of Object.entries(object.properties ?? {})) {
        // A key that only exists to be refused (a secret written in the file) has no schema.
        if (Object.keys(child).length === 0) continue;
        const items = child.type === "array" && child.items?.properties !== undefined;
        visit(
          items ? child.items! : child,
          `${path === "" ? "" : `${path}.`}${key}${items ? "[]" : ""}`,
        );
      }
    }
  };
  visit(json as JsonNode, "");
  return { leaves, sections };
}

interface JsonNode {
  type?: string;
  anyOf?: JsonNode[];
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
}

/** The rows of README tables headed `| key |`, keys resolved to whole paths. */
function readmeKeyRows(real: (path: string) => boolean): KeyRow[] {
  const rows: KeyRow[] = [];
  const lines = README.split("\n");
  let prefix = "";
  let inTable = false;
  lines.forEach((text, index) => {
    if (text.startsWith("#")) prefix = text === "### `servers[]`" ? "servers[]." : "";
    if (!text.startsWith("|")) {
      inTable = false;
      return;
    }
    const cells = text.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim());
    if (/^-+$/.test(cells[0] ?? "")) return;
    if (cells[0] === "key") {
      inTable = true;
      return;
    }
    if (!inTable) return;
    const keys: string[] = [];
    for (const [, token] of (cells[0] ?? "").matchAll(/`([^`]+)`/g)) {
      const name = token!.replace(/\.\*$/, "");
      const previous = keys.at(-1);
      const key = previous === undefined ? prefix + name : resolve(name, previous, real);
      // `mcp.auth.clients` names the list whose entries are `mcp.auth.clients[]`.
      keys.push(real(`${key}[]`) ? `${key}[]` : key);
    }
    rows.push({ line: index + 1, keys, defaults: cells[1] ?? "" });
  });
  return rows;
}

/** `name` relative to the deepest section of `previous` where it is a real key (else absolute). */
function resolve(name: string, previous: string, real: (path: string) => boolean): string {
  const segments = previous.split(".");
  for (let depth = segments.length - 1; depth > 0; depth--) {
    const candidate = `${segments.slice(0, depth).join(".")}.${name}`;
    if (real(candidate)) return candidate;
  }
  return name;
}

/** Splits a defaults cell at the commas outside backticks. */
function splitDefaults(cell: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const char of cell) {
    if (char === "`") quoted = !quoted;
    if (char === "," && !quoted) {
      parts.push(current.trim());
      current = "";
    } else current += char;
  }
  parts.push(current.trim());
  return parts;
}

const UNITS: Record<string, number> = { "": 1, s: 1, KiB: 1024, MiB: 1024 * 1024 };

/** What a default cell can mean as a config value: none when it is words ("required", "off"). */
function candidates(cell: string): unknown[] {
  const code = /^`([^`]*)`$/.exec(cell);
  if (code) return [parseYaml(code[1]!), code[1]];
  const number = /^(\d+(?:\.\d+)?)\s*(s|KiB|MiB)?$/.exec(cell.replace(/\s*\(.*\)$/, ""));
  return number ? [Number(number[1]) * UNITS[number[2] ?? ""]!] : [];
}

/** A config with one of every list entry, so defaults inside entries show. */
function baseInput(): Record<string, unknown> {
  return {
    servers: [{ name: "a", command: "b" }],
    mcp: {
      auth: {
        clients: [{ name: "c", key_env: "C_KEY" }],
        users: [{ name: "u", password_sha256: "0".repeat(64) }],
      },
    },
    cluster: { redis_url: "redis://127.0.0.1" },
  };
}

/** `baseInput()` with `value` written at `path`. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const input = baseInput();
  const segments = path.split(".");
  let node = input;
  for (const segment of segments.slice(0, -1)) {
    const key = segment.replace(/\[\]$/, "");
    const next = (node[key] ??= {}) as Record<string, unknown> | Array<Record<string, unknown>>;
    node = Array.isArray(next) ? next[0]! : next;
  }
  node[segments.at(-1)!] = value;
  return input;
}

Deno.test("README.md's config tables name every schema key, only real keys, and their defaults", () => {
  const { leaves, sections } = schemaPaths();
  const real = (path: string) => leaves.has(path) || sections.has(path);
  const rows = readmeKeyRows(real);
  const named = new Set(rows.flatMap((row) => row.keys));
  const unknown = rows.flatMap((row) =>
    row.keys.filter((key) => !real(key)).map((key) => `README.md:${row.line}: ${key}`)
  );
  assert.deepEqual(
    unknown,
    [],
    `keys the README names that the schema does not have:\n${unknown.join("\n")}`,
  );
  const missing = [...leaves].filter((leaf) => !named.has(leaf));
  assert.deepEqual(missing, [], `schema keys no README table names:\n${missing.join("\n")}`);
  const expected = configSchema.parse(baseInput());
  const wrong: string[] = [];
  for (const row of rows) {
    const parts = splitDefaults(row.defaults);
    if (parts.length !== row.keys.length && parts.length !== 1) continue;
    row.keys.forEach((key, i) => {
      const values = candidates(parts[parts.length === 1 ? 0 : i]!);
      if (!leaves.has(key) || values.length === 0) return;
      const same = values.some((value) => {
        const parsed = configSchema.safeParse(withValue(key, value));
        return parsed.success && JSON.stringify(parsed.data) === JSON.stringify(expected);
      });
      if (!same) wrong.push(`README.md:${row.line}: ${key} = ${parts[parts.length === 1 ? 0 : i]}`);
    });
  }
  assert.deepEqual(
    wrong,
    [],
    `defaults the README gives that are not the schema's:\n${wrong.join("\n")}`,
  );
});

Deno.test("config.example.yaml names every key of the schema", () => {
  const { leaves } = schemaPaths();
  const missing = [...leaves].filter((leaf) => {
    const name = leaf.split(".").at(-1)!.replace(/\[\]$/, "");
    return !new RegExp(`(^|[\\s{,#])${name}:`, "m").test(EXAMPLE);
  });
  assert.deepEqual(missing, [], "keys config.example.yaml does not show");
});

Deno.test("README.md's metrics table names every family GET /metrics can show, and no other", () => {
  const metrics = createGatewayMetrics({ upstreams: () => [], sessionsActive: () => 0 });
  // The `cluster` families (nothing connects until the cluster is started).
  new Cluster({
    redisUrl: "redis://127.0.0.1:1",
    prefix: "test:",
    url: () => "http://127.0.0.1:1",
    configDigest: "",
    version: "test",
    log: silentLogger,
    clock: systemClock,
    registry: metrics.registry,
  });
  const families = [...render(metrics.registry).matchAll(/^# TYPE (\S+) (\S+)$/gm)]
    .map(([, name, type]) => `${name} ${type}`).sort();
  const table = README.slice(
    README.indexOf("| family "),
    README.indexOf("Label values are bounded"),
  );
  const shown = table.split("\n").filter((line) => line.startsWith("| `mcpstead_")).flatMap(
    (line) => {
      const [names, types] = line.slice(1).split("|").map((cell) => cell.trim());
      const kinds = types!.split(/,\s*/);
      let prefix = "";
      return [...names!.matchAll(/`(mcpstead_[^`]+|_[^`]+)`/g)].map(([, name], i) => {
        // `_virtual_memory_bytes` after `mcpstead_process_resident_memory_bytes`.
        if (name!.startsWith("_")) return `mcpstead_process${name} ${kinds[0]}`;
        prefix = name!;
        return `${prefix} ${kinds[Math.min(i, kinds.length - 1)]}`;
      });
    },
  ).sort();
  const unlisted = families.filter((family) => !shown.includes(family));
  const unreal = shown.filter((family) => !families.includes(family));
  assert.deepEqual({ unlisted, unreal }, { unlisted: [], unreal: [] });
});
