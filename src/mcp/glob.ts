/** Glob patterns over names and URIs: `*` is any run of characters, `?` one character. */

/** Compiles globs into one test; no globs match nothing. */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  if (globs.includes("*")) return () => true;
  const pattern = globs.map((glob) =>
    glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")
  );
  const regexp = new RegExp(`^(?:${pattern.join("|")})$`, "s");
  return (name) => regexp.test(name);
}

/** Allow and deny globs together: a name passes when an allow glob matches and no deny glob does. */
export function scopeMatcher(
  scope: { allow: readonly string[]; deny: readonly string[] },
): (name: string) => boolean {
  const allowed = globMatcher(scope.allow);
  const denied = globMatcher(scope.deny);
  return (name) => allowed(name) && !denied(name);
}
