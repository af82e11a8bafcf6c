/**
 * Rewrites the Homebrew formula for a release: version, homepage, and the url and sha256 of each
 * platform, taken from the release's SHA256SUMS (lines `<sha256>  mcpstead-<version>-<target>.tar.gz`).
 *
 * `deno run --allow-read --allow-write scripts/update_formula.ts --version 0.2.0
 *    --repo owner/mcpstead --sums SHA256SUMS packaging/homebrew/mcpstead.rb`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { TARGETS } from "./compile.ts";

/** The release archive name of `target` (the layout `release.yml` uploads). */
export function archiveName(version: string, target: string): string {
  return `mcpstead-${version}-${target}.tar.gz`;
}

/** The download URL of `target`'s archive in release `v<version>` of GitHub repository `repo`. */
export function archiveUrl(repo: string, version: string, target: string): string {
  return `https://github.com/${repo}/releases/download/v${version}/${archiveName(version, target)}`;
}

/** Parses SHA256SUMS text into file name → sha256; throws on a line that is not a sum. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line.trim());
    if (match === null) throw new Error(`Cannot read SHA256SUMS: bad line ${JSON.stringify(line)}`);
    sums.set(match[2]!, match[1]!);
  }
  return sums;
}

/** The formula `text` with version, homepage, urls and sha256 set for release `version`. */
export function updateFormula(
  text: string,
  options: { version: string; repo: string; sums: Map<string, string> },
): string {
  const { version, repo, sums } = options;
  let out = text
    .replace(/^(\s*)version "[^"]*"$/m, `$1version "${version}"`)
    .replace(/^(\s*)homepage "[^"]*"$/m, `$1homepage "https://github.com/${repo}"`);
  for (const target of TARGETS) {
    const sha = sums.get(archiveName(version, target));
    if (sha === undefined) {
      throw new Error(`Cannot update formula: SHA256SUMS has no ${archiveName(version, target)}`);
    }
    const pattern = new RegExp(
      `^(\\s*)url "[^"]*-${target}\\.tar\\.gz"\\n(\\s*)sha256 "[^"]*"$`,
      "m",
    );
    if (!pattern.test(out)) throw new Error(`Cannot update formula: no url for ${target}`);
    out = out.replace(
      pattern,
      (_, a: string, b: string) =>
        `${a}url "${archiveUrl(repo, version, target)}"\n${b}sha256 "${sha}"`,
    );
  }
  return out;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      version: { type: "string" },
      repo: { type: "string" },
      sums: { type: "string" },
    },
  });
  const [formula] = positionals;
  if (!values.version || !values.repo || !values.sums || formula === undefined) {
    throw new Error(
      "usage: update_formula.ts --version V --repo OWNER/NAME --sums SHA256SUMS FORMULA",
    );
  }
  const sums = parseSums(await Deno.readTextFile(values.sums));
  const text = await Deno.readTextFile(formula);
  await Deno.writeTextFile(
    formula,
    updateFormula(text, { version: values.version, repo: values.repo, sums }),
  );
}
