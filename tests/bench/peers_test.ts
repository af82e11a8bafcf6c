import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { readPeerChoice } from "../../bench/peers.ts";
import {
  findRustPeers,
  MCP_GATEWAY,
  RUST_MCPSTEAD,
  shellWords,
  startRustPeer,
} from "../../bench/rust_peers.ts";
import { readFlags } from "../../bench/fast_mcp.ts";

const UPSTREAM = "http://127.0.0.1:4321/mcp";
const choice = (...args: string[]) => readPeerChoice(readFlags(args));

Deno.test("readPeerChoice() reads --install-peers, --install-peers=all and --no-peers", () => {
  assert.deepEqual(choice("--quick"), { skip: false, install: "none" });
  assert.deepEqual(choice("--install-peers", "--quick"), { skip: false, install: "default" });
  assert.deepEqual(choice("--install-peers=all"), { skip: false, install: "all" });
  assert.deepEqual(choice("--quick", "--no-peers"), { skip: true, install: "none" });
});

Deno.test("readPeerChoice() rejects an unknown choice and --no-peers with --install-peers", () => {
  assert.throws(
    () => choice("--install-peers=some"),
    /^Error: Cannot read the peer flags: --install-peers 'some' is not a choice; use --install-peers or --install-peers=all$/,
  );
  assert.throws(() => choice("--no-peers", "--install-peers"), /contradict each other/);
});

/** Runs bench/load.ts with `args`; what it printed and its exit code. */
async function runLoad(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../bench/load.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("bench/load.ts exits 2 with the reason on a bad peer flag, before starting anything", async () => {
  const out = await runLoad("--install-peers=x");
  assert.equal(out.code, 2);
  assert.equal(out.stdout, "");
  assert.match(
    out.stderr,
    /bench: Cannot read the peer flags: --install-peers 'x' is not a choice/,
  );
});

Deno.test("bench/load.ts prints its usage for --help and refuses a flag it does not know, before starting anything", async () => {
  const help = await runLoad("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /\[--install-peers=all\]/);
  assert.equal(help.stderr, "");
  const typo = await runLoad("--quik");
  assert.equal(typo.code, 2);
  assert.equal(typo.stdout, "");
  assert.match(typo.stderr, /^bench: unknown flag --quik\n.*\[--quick\]/s);
});

Deno.test("RUST_MCPSTEAD.config() puts one upstream named fast behind 127.0.0.1:<port>", () => {
  assert.deepEqual(parse(RUST_MCPSTEAD.config(4567, UPSTREAM)), {
    host: "127.0.0.1",
    port: 4567,
    logging: { level: "info" },
    servers: [{ name: "fast", url: UPSTREAM }],
  });
  assert.deepEqual(RUST_MCPSTEAD.args("/tmp/c.yaml"), ["--config", "/tmp/c.yaml"]);
  assert.equal(RUST_MCPSTEAD.path, "/mcp");
  assert.equal(RUST_MCPSTEAD.tool, "fast__tool_0");
});

Deno.test("MCP_GATEWAY.config() turns on Streamable HTTP and turns off the rate limit and the cache", () => {
  assert.deepEqual(parse(MCP_GATEWAY.config(4567, UPSTREAM)), {
    server: { host: "127.0.0.1", port: 4567 },
    failsafe: { rate_limit: { enabled: false } },
    cache: { enabled: false },
    backends: { fast: { http_url: UPSTREAM, streamable_http: true } },
  });
  assert.equal(MCP_GATEWAY.path, "/mcp/fast");
  assert.equal(MCP_GATEWAY.tool, "tool_0");
});

/** A stand-in for cargo: records its arguments, then runs `body` (sh). */
async function fakeCargo(dir: string, body: string): Promise<string> {
  const path = join(dir, "cargo");
  await Deno.writeTextFile(path, `#!/bin/sh\necho "$@" >> "${dir}/cargo.log"\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** Installs like `cargo install`: the binary named after the crate into `--root`/bin. */
const INSTALLS = 'root=""; prev=""; for a in "$@"; do [ "$prev" = "--root" ] && root="$a"; ' +
  'prev="$a"; done; mkdir -p "$root/bin"; printf "#!/bin/sh\\n" > "$root/bin/$2"; ' +
  'chmod +x "$root/bin/$2"';

Deno.test("findRustPeers() reports missing peers with the flag that installs them, running no cargo", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const cargo = await fakeCargo(cache, "exit 1");
    const reports = await findRustPeers({
      choice: { skip: false, install: "none" },
      cache,
      cargo,
      log: () => {},
    });
    assert.deepEqual(reports.map((r) => [r.key, r.bin, r.skipped]), [
      [
        "mcpstead-rs",
        undefined,
        `not installed (--install-peers builds it into ${cache}, about 5 minutes)`,
      ],
      [
        "mcp-gateway",
        undefined,
        `not installed (--install-peers=all builds it into ${cache}, about 13 minutes)`,
      ],
    ]);
    assert.equal(await Deno.stat(join(cache, "cargo.log")).catch(() => undefined), undefined);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("findRustPeers() with --no-peers reports both peers as skipped", async () => {
  const reports = await findRustPeers({
    choice: { skip: true, install: "none" },
    cache: "/nonexistent",
    cargo: "cargo",
    log: () => {},
  });
  assert.deepEqual(reports.map((r) => r.skipped), [
    "skipped (--no-peers)",
    "skipped (--no-peers)",
  ]);
});

Deno.test("findRustPeers() installs the Rust mcpstead with --install-peers and both with =all", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const cargo = await fakeCargo(cache, INSTALLS);
    const notes: string[] = [];
    const first = await findRustPeers({
      choice: { skip: false, install: "default" },
      cache,
      cargo,
      log: (text) => notes.push(text),
    });
    const rustRoot = join(cache, "mcpstead-0.1.13");
    assert.equal(first[0]!.bin, join(rustRoot, "bin", "mcpstead"));
    assert.equal(first[0]!.skipped, undefined);
    assert.equal(typeof first[0]!.installSeconds, "number");
    assert.match(first[1]!.skipped!, /^not installed \(--install-peers=all/);
    assert.deepEqual(notes, [
      `installing mcpstead 0.1.13 with cargo into ${rustRoot}; the first build takes about 5 minutes`,
    ]);

    const all = await findRustPeers({
      choice: { skip: false, install: "all" },
      cache,
      cargo,
      log: () => {},
    });
    assert.deepEqual(all.map((r) => r.bin), [
      join(rustRoot, "bin", "mcpstead"),
      join(cache, "mcp-gateway-3.5.1", "bin", "mcp-gateway"),
    ]);
    // Cached peers are not built again.
    assert.deepEqual((await Deno.readTextFile(join(cache, "cargo.log"))).trim().split("\n"), [
      `install mcpstead --version 0.1.13 --locked --root ${rustRoot}`,
      `install mcp-gateway --version 3.5.1 --locked --root ${join(cache, "mcp-gateway-3.5.1")}`,
    ]);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("findRustPeers() reports a failed cargo install and a missing cargo", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const failing = await findRustPeers({
      choice: { skip: false, install: "default" },
      cache,
      cargo: await fakeCargo(cache, "exit 101"),
      log: () => {},
    });
    assert.equal(
      failing[0]!.skipped,
      "cannot install: cargo install mcpstead --version 0.1.13 failed (exit code 101; its output is above)",
    );
    assert.equal(failing[0]!.bin, undefined);
    const missing = await findRustPeers({
      choice: { skip: false, install: "default" },
      cache,
      cargo: join(cache, "no-cargo"),
      log: () => {},
    });
    assert.equal(
      missing[0]!.skipped,
      `cannot install: '${join(cache, "no-cargo")}' is not installed (https://rustup.rs)`,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("startRustPeer() rejects with the peer's output when it exits, and gives it only HOME and PATH", async () => {
  const dir = await Deno.makeTempDir();
  Deno.env.set("MCP_GATEWAY_PORT", "1");
  try {
    const bin = join(dir, "mcpstead");
    await Deno.writeTextFile(
      bin,
      '#!/bin/sh\nenv >&2\necho "Error: parse config $2: failed" >&2\nexit 3\n',
    );
    await Deno.chmod(bin, 0o755);
    const error = await startRustPeer(
      RUST_MCPSTEAD,
      bin,
      (port) => RUST_MCPSTEAD.config(port, UPSTREAM),
    ).then(
      () => assert.fail("the peer started"),
      (e: Error) => e.message,
    );
    assert.match(error, /^Rust mcpstead 0\.1\.13 exited \(code 3\) before it was ready:/);
    assert.match(
      error,
      /Error: parse config \/tmp\/mcpstead-bench-mcpstead-rs-\w+\/config\.yaml: failed/,
    );
    const home = /HOME=(\S+)/.exec(error)![1]!;
    assert.doesNotMatch(error, /MCP_GATEWAY_PORT/);
    // Its folder goes with it.
    assert.equal(await Deno.stat(home).catch(() => undefined), undefined);
  } finally {
    Deno.env.delete("MCP_GATEWAY_PORT");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MCP_GATEWAY.stdioConfig() runs the child from quoted shell words, rate limit and cache off", () => {
  const command = shellWords("/usr/bin/deno", ["run", "/a b/fast_stdio.ts", "--marker", "it's"]);
  assert.equal(command, `'/usr/bin/deno' 'run' '/a b/fast_stdio.ts' '--marker' 'it'"'"'s'`);
  const config = MCP_GATEWAY.stdioConfig!(4321, command);
  assert.match(config, /^server:\n {2}host: 127\.0\.0\.1\n {2}port: 4321\n/);
  assert.match(config, /failsafe:\n {2}rate_limit:\n {4}enabled: false\n/);
  assert.match(config, /cache:\n {2}enabled: false\n/);
  assert.ok(config.endsWith(`backends:\n  fast:\n    command: ${JSON.stringify(command)}\n`));
});
