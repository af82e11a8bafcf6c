/**
 * What a client's scopes (`mcp.auth` clients and users) let it see and use: allow/deny globs per
 * kind, compiled once per identity.
 */
import type { Identity } from "../http/auth.ts";
import { scopeMatcher } from "../mcp/glob.ts";

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
