/**
 * Which sessions a reload must end because the identity that opened them is gone or different
 * (another key or password, other scopes, admin flag, another auth mode): such a session would
 * otherwise keep its subscriptions, its stream and its upstream instances under the old rules.
 */
import { createHash } from "node:crypto";
import type { DownstreamAuth } from "../config/mod.ts";
import type { Identity } from "../http/auth.ts";

/** Whether a session opened by `identity` (undefined: anonymous) outlives a reload. */
export type IdentityCheck = (identity: Identity | undefined) => boolean;

/** Tells, for the identities of `before`, whether each is still the same in `after`. */
export function unchangedIdentities(before: DownstreamAuth, after: DownstreamAuth): IdentityCheck {
  const old = fingerprints(before);
  const next = fingerprints(after);
  return (identity) => {
    const name = identity?.name ?? "";
    return old.get(name) !== undefined && old.get(name) === next.get(name);
  };
}

/** Each identity an auth config defines (the anonymous one as ""), with all that defines it. */
function fingerprints(auth: DownstreamAuth): Map<string, string> {
  switch (auth.mode) {
    case "none":
      return new Map([["", "none"]]);
    case "bearer":
      return new Map([["bearer", createHash("sha256").update(auth.token).digest("hex")]]);
    case "keys":
      return new Map(auth.clients.map((c) => [c.name, JSON.stringify(["keys", c])]));
    case "basic":
      return new Map(auth.users.map((u) => [u.name, JSON.stringify(["basic", u])]));
  }
}
