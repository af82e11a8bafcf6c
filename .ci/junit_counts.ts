/** Prints "N passed, N failed" from a `deno test --junit-path` report (one line per test case). */
const xml = await Deno.readTextFile(Deno.args[0]!);
let passed = 0;
let failed = 0;
for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const inner = match[2] ?? "";
  if (/<(failure|error)\b/.test(inner)) failed++;
  else if (!/<skipped\b/.test(inner)) passed++;
}
// deno-lint-ignore no-console -- this script exists to print the summary line
console.log(`${passed} passed, ${failed} failed`);
