/**
 * The `git_sha` label of `mcpstead_build_info` for a gateway run from a git clone: the commit
 * checked out, read from the `.git` files (no `git` binary needed). A bundle or a compiled binary
 * has no `.git` beside it and reports `unknown`.
 *
 * @module
 */

/** Reads a text file, or returns undefined when it is missing or may not be read. */
export type ReadText = (path: string) => string | undefined;

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The commit checked out in the work tree at `dir`: `.git` may be a directory, or a file naming
 * one (`gitdir: …`, as in worktrees and submodules); HEAD may name a ref, loose or packed, in
 * the git directory or in the common one of a worktree (`commondir`).
 */
export function readGitSha(dir: string, read: ReadText = readIfPermitted): string | undefined {
  const dotGit = read(`${dir}/.git`);
  const gitDir = dotGit?.startsWith("gitdir: ")
    ? absolute(dotGit.slice("gitdir: ".length).trim(), dir)
    : `${dir}/.git`;
  const head = read(`${gitDir}/HEAD`)?.trim();
  if (head === undefined) return undefined;
  if (SHA.test(head)) return head;
  if (!head.startsWith("ref: ")) return undefined;
  const ref = head.slice("ref: ".length);
  const common = read(`${gitDir}/commondir`)?.trim();
  const dirs = common === undefined ? [gitDir] : [gitDir, absolute(common, gitDir)];
  for (const where of dirs) {
    const loose = read(`${where}/${ref}`)?.trim();
    if (loose !== undefined && SHA.test(loose)) return loose;
    for (const line of (read(`${where}/packed-refs`) ?? "").split("\n")) {
      const [sha, name] = line.trim().split(" ");
      if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
    }
  }
  return undefined;
}

function absolute(path: string, base: string): string {
  return path.startsWith("/") ? path : `${base}/${path}`;
}

/** Reads `path` only if read permission is already granted (a sandboxed run is never asked). */
function readIfPermitted(path: string): string | undefined {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
