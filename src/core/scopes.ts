/**
 * What a client's scopes (`mcp.auth` clients and users) let it see and use: allow/deny globs per
 * kind, compiled once per identity, and whether it may use anything of a server, which decides
 * the servers it is shown and the upstream log messages it is sent.
 */
import type { Identity } from "../http/auth.ts";
import { scopeMatcher } from "../mcp/glob.ts";
import type { Catalog } from "../upstream/catalog.ts";

/** One identity's scope tests: exposed tool and prompt names, exposed resource URIs. */
export type ScopeTests = Record<"tools" | "prompts" | "resources", (name: string) => boolean>;

const compiled = new WeakMap<Identity, ScopeTests>();

/** The compiled scope tests of an identity; undefined when it may use everything. */
export function scopeOf(identity: Identity | undefined): ScopeTests | undefined {
  if (!identity?.scopes) return undefined;
  let tests = compiled.get(identity);
  if (!tests) {
    const { tools, prompts, resources } = identity.scopes;
    tests = {
      tools: scopeMatcher(tools),
      prompts: scopeMatcher(prompts),
      resources: scopeMatcher(resources),
    };
    compiled.set(identity, tests);
  }
  return tests;
}

/** Per catalog snapshot and identity: the servers already decided. */
const usable = new WeakMap<Catalog, WeakMap<Identity, Map<string, boolean>>>();

/** Whether `identity` may use any tool, prompt, resource or resource template of `server`. */
export function mayUseServer(
  catalog: Catalog,
  identity: Identity | undefined,
  server: string,
): boolean {
  const scope = scopeOf(identity);
  if (!scope || !identity) return true;
  let byIdentity = usable.get(catalog);
  if (!byIdentity) usable.set(catalog, byIdentity = new WeakMap());
  let servers = byIdentity.get(identity);
  if (!servers) byIdentity.set(identity, servers = new Map());
  let may = servers.get(server);
  if (may === undefined) {
    const items = catalog.itemsOf(server);
    may = items.tools.some(scope.tools) || items.prompts.some(scope.prompts) ||
      items.resources.some(scope.resources) || items.templates.some(scope.resources);
    servers.set(server, may);
  }
  return may;
}
