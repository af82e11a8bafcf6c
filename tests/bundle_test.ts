import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { startHttpFixture } from "./fixtures/http_server.ts";
import { connectClient } from "./_support/client.ts";
import { serveGateway } from "./_support/process.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("deno bundle yields one file that serves tools with only the deno binary", async () => {
  const dir = await Deno.makeTempDir();
  const bundle = `${dir}/mcpstead.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform=deno", "-o", bundle, "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["mcpstead.js"]);

  const version = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "-A", bundle, "--version"],
    cwd: dir,
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(version.stdout), `mcpstead ${denoJson.version}\n`);

  await using up = await startHttpFixture({ name: "up" });
  await Deno.writeTextFile(
    `${dir}/c.yaml`,
    `port: 0\nservers:\n  - name: up\n    url: ${up.url}\n    required: true\n`,
  );
  await using gateway = await serveGateway(bundle, ["--config", "c.yaml"], {
    cwd: dir,
    denoFlags: ["--no-config"],
  });
  try {
    await using client = await connectClient(`http://${gateway.address}/mcp`);
    const result = await client.callTool({ name: "up__echo", arguments: { text: "bundled" } });
    assert.equal((result.content as Array<{ text: string }>)[0]!.text, "up:bundled");
  } finally {
    assert.equal(await gateway.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
