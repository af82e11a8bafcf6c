import assert from "node:assert/strict";
import { readGitSha } from "../../src/metrics/mod.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { MAIN } from "../_support/cli.ts";
import { serveGateway } from "../_support/process.ts";
import { requireTool } from "../_support/tools.ts";

const A = "0123456789abcdef0123456789abcdef01234567";
const B = "89abcdef0123456789abcdef0123456789abcdef";

/** A reader over an in-memory file tree. */
const files = (tree: Record<string, string>) => (path: string) => tree[path];

Deno.test("readGitSha() follows HEAD to a loose ref, a packed ref, or a detached commit", () => {
  assert.equal(
    readGitSha(
      "/r",
      files({ "/r/.git/HEAD": "ref: refs/heads/main\n", "/r/.git/refs/heads/main": `${A}\n` }),
    ),
    A,
  );
  assert.equal(
    readGitSha(
      "/r",
      files({
        "/r/.git/HEAD": "ref: refs/heads/main\n",
        "/r/.git/packed-refs":
          `# pack-refs with: peeled\n${B} refs/heads/other\n${A} refs/heads/main\n`,
      }),
    ),
    A,
  );
  assert.equal(readGitSha("/r", files({ "/r/.git/HEAD": `${B}\n` })), B);
  assert.equal(readGitSha("/r", files({})), undefined, "not a git clone");
  assert.equal(readGitSha("/r", files({ "/r/.git/HEAD": "ref: refs/heads/gone\n" })), undefined);
});

Deno.test("readGitSha() finds a worktree's branch in the common git directory", () => {
  const tree = files({
    "/wt/.git": "gitdir: /repo/.git/worktrees/wt\n",
    "/repo/.git/worktrees/wt/HEAD": "ref: refs/heads/feature\n",
    "/repo/.git/worktrees/wt/commondir": "../..\n",
    "/repo/.git/worktrees/wt/../../refs/heads/feature": `${B}\n`,
  });
  assert.equal(readGitSha("/wt", tree), B);
});

Deno.test(requireTool(["git"], {
  name: "mcpstead_build_info names the commit of the git clone the gateway runs from",
  async fn({ git }) {
    const root = new URL("../../", import.meta.url).pathname;
    const head = await new Deno.Command(git, {
      args: ["rev-parse", "HEAD"],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    // From a source archive (no git clone) there is no commit to name.
    const sha = head.success ? new TextDecoder().decode(head.stdout).trim() : "unknown";
    await using up = await startHttpFixture({ name: "up" });
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `port: 0\nservers:\n  - name: up\n    url: ${up.url}\n`,
    );
    await using gateway = await serveGateway(MAIN, ["--config", `${dir}/c.yaml`]);
    const text = await (await fetch(`http://${gateway.address}/metrics`)).text();
    assert.match(text, new RegExp(`^mcpstead_build_info\\{[^}]*git_sha="${sha}"\\} 1$`, "m"));
  },
}));
