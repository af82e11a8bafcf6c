/**
 * `promtool check metrics` (Go expfmt parser plus promlint), from Debian's `prometheus` package.
 *
 * @module
 */

/** What promtool said about an exposition: its exit code and everything it printed. */
export interface PromtoolResult {
  code: number;
  output: string;
}

/** Pipes `text` into `promtool check metrics` (`promtool` is its path, from `requireTool`). */
export async function promtoolCheck(promtool: string, text: string): Promise<PromtoolResult> {
  const child = new Deno.Command(promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}
