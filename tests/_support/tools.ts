/**
 * The one rule for tests that run a program from outside Deno (promtool, chromium, ruby, ...):
 * a tool is looked up on PATH (and in .ci/out/bin, where .ci/run builds actionlint). When one is
 * missing and CI is unset, the test is ignored and a line on stderr says which test, which tool
 * and how to install it; when CI is set (any non-empty value) the test runs and fails with that
 * reason, so CI never passes by skipping.
 *
 * @module
 */

const CI_BIN = new URL("../../.ci/out/bin/", import.meta.url).pathname;

/** How to install each tool, for the skip line (Debian package names, as .ci/run uses). */
const INSTALL: Record<string, string> = {
  promtool: "apt-get install prometheus",
  prometheus: "apt-get install prometheus",
  chromium: "apt-get install chromium",
  ruby: "apt-get install ruby",
  zsh: "apt-get install zsh",
  fish: "apt-get install fish",
  shellcheck: "apt-get install shellcheck",
  actionlint: "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7 (.ci/run does)",
  podman: "apt-get install podman",
  "redis-server": "apt-get install redis-server",
  git: "apt-get install git",
  openssl: "apt-get install openssl",
};

/** Whether CI is set to a non-empty value; unreadable (no env permission) counts as set. */
export function ciIsSet(): boolean {
  if (Deno.permissions.querySync({ name: "env", variable: "CI" }).state !== "granted") return true;
  return (Deno.env.get("CI") ?? "") !== "";
}

/** The absolute path of `tool` on PATH or in .ci/out/bin, or undefined. */
function findTool(tool: string): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== "");
  for (const dir of [...dirs, CI_BIN]) {
    const path = `${dir.replace(/\/$/, "")}/${tool}`;
    try {
      const stat = Deno.statSync(path);
      if (stat.isFile && ((stat.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** A `Deno.TestDefinition` whose `fn` receives the path of each tool it asked for. */
export interface ToolTestDefinition<T extends string>
  extends Omit<Deno.TestDefinition, "fn" | "ignore"> {
  fn(tools: Record<T, string>, t: Deno.TestContext): void | Promise<void>;
}

/**
 * The test definition of a test that needs `tools`: pass the result to `Deno.test`.
 *
 * ```ts
 * Deno.test(requireTool(["promtool"], {
 *   name: "promtool accepts the exposition",
 *   fn: async ({ promtool }) => void (await new Deno.Command(promtool).output()),
 * }));
 * ```
 */
export function requireTool<T extends string>(
  tools: readonly T[],
  definition: ToolTestDefinition<T>,
): Deno.TestDefinition {
  const found = {} as Record<T, string>;
  const missing: string[] = [];
  for (const tool of tools) {
    const path = findTool(tool);
    if (path === undefined) missing.push(tool);
    else found[tool] = path;
  }
  const reason = missing.map((tool) =>
    `${tool} is not on PATH (install: ${INSTALL[tool] ?? `a package that provides ${tool}`})`
  ).join("; ");
  const ci = ciIsSet();
  if (missing.length > 0 && !ci) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `skipped: "${definition.name}": ${reason}; with CI set it fails instead\n`,
      ),
    );
  }
  return {
    ...definition,
    ignore: missing.length > 0 && !ci,
    fn: (t) => {
      if (missing.length > 0) throw new Error(`Cannot run with CI set: ${reason}`);
      return definition.fn(found, t);
    },
  };
}

/** A long-running tool started by {@linkcode startTool}; disposing it stops it. */
export interface RunningTool extends AsyncDisposable {
  /** The match of the `ready` pattern in its output. */
  ready: RegExpExecArray;
  child: Deno.ChildProcess;
}

/**
 * Starts `path` with `args` and resolves once a line of its stdout or stderr matches `ready`
 * (within `timeoutMs`); output keeps being read so the pipes never fill. On failure, and on
 * dispose, the process is killed by its pid and awaited.
 */
export async function startTool(
  path: string,
  args: readonly string[],
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<RunningTool> {
  const child = new Deno.Command(path, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const found = Promise.withResolvers<RegExpExecArray>();
  const read = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          if (output.length < 65_536) output += chunk;
          const match = ready.exec(output);
          if (match !== null) found.resolve(match);
        },
      }),
    );
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await drained.catch(() => {});
  };
  const timer = setTimeout(
    () =>
      found.reject(new Error(`Cannot start ${path}: no line matched ${ready} in ${timeoutMs} ms`)),
    timeoutMs,
  );
  child.status.then((status) =>
    found.reject(
      new Error(`Cannot start ${path}: it exited with ${status.code}; output: ${output}`),
    )
  );
  try {
    return { ready: await found.promise, child, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
