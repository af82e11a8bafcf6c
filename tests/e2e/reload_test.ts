import assert from "node:assert/strict";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { connectClient } from "../_support/client.ts";
import { healthOf, listedToolNames, startGateway, upstream } from "../_support/gateway.ts";
import { ToolListChangedNotificationSchema } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";

const reload = async (base: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/-/reload`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: "{}",
  });
  return {
    status: res.status,
    body: res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text(),
  };
};

const metric = async (base: string, series: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

Deno.test("POST /-/reload adds, removes, restarts and updates servers; live sessions see list_changed", async () => {
  await using a = await startHttpFixture({ name: "a" });
  await using b = await startHttpFixture({ name: "b" });
  await using b2 = await startHttpFixture({ name: "b2" });
  await using c = await startHttpFixture({ name: "c" });
  const base = `servers:\n${upstream("a", a.url)}${upstream("b", b.url)}${upstream("c", c.url)}`;
  await using gw = await startGateway(base, { K: "1" });
  await waitFor(() => gw.gateway.health().status === "ok" && gw.gateway.catalog().size > 20);
  await using client = await connectClient(gw.url);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  const aSessionsBefore = a.sessions();

  await using d = await startHttpFixture({ name: "d" });
  gw.rewrite(
    `servers:\n${upstream("a", a.url, "    tools:\n      ttl_seconds: 30\n")}${
      upstream("b", b2.url)
    }${upstream("d", d.url, "    headers:\n      X-K: '${K}'\n")}`,
  );
  const { status, body } = await reload(gw.base);
  assert.equal(status, 200);
  assert.deepEqual(body, {
    added: 1,
    removed: 1,
    restarted: 1,
    updated: 1,
    unchanged: 0,
    servers: { added: ["d"], removed: ["c"], restarted: ["b"], updated: ["a"], unchanged: [] },
    restart_required: [],
  });
  await waitFor(() =>
    gw.gateway.health().status === "ok" && gw.gateway.catalog().tool("d__echo") !== undefined
  );
  assert.ok(!(await listedToolNames(gw)).some((n) => n.startsWith("c__")), "c's tools are gone");
  await waitFor(() => changed > 0, "tools/list_changed on the live session");
  const echo = await client.callTool({ name: "b__echo", arguments: { text: "x" } });
  assert.equal(
    (echo.content as Array<{ text: string }>)[0]!.text,
    "b2:x",
    "b now points at the new URL",
  );
  assert.equal(a.sessions(), aSessionsBefore, "the updated server kept its upstream session");
  assert.deepEqual((await healthOf(gw)).servers.map((s) => s.name), ["a", "b", "d"]);
  assert.equal(await metric(gw.base, 'mcpstead_config_reloads_total{result="success"}'), 1);
  await waitFor(() => c.sessions() === 0, "the removed server's upstream session to end");

  gw.rewrite(
    `servers:\n${upstream("a", a.url, "    tools:\n      ttl_seconds: 30\n")}${
      upstream("b", b2.url)
    }${upstream("d", d.url, "    headers:\n      X-K: '${K}'\n")}`,
  );
  const same = await reload(gw.base);
  assert.deepEqual([same.body.unchanged, same.body.restarted], [3, 0]);
});

Deno.test("a bad file is refused with its file:line:col reason and everything keeps running", async () => {
  await using a = await startHttpFixture({ name: "a" });
  await using gw = await startGateway(`servers:\n${upstream("a", a.url)}`);
  await waitFor(() => gw.gateway.catalog().size > 0);
  for (
    const [text, reason] of [
      ["servers: [\n", /^test\.yaml:2:1: /],
      [
        `servers:\n${upstream("a", a.url, "    nmae: x\n")}`,
        /^test\.yaml:4:5: servers\[0\]\.nmae: unknown key 'nmae' \(did you mean 'name'\?\)/,
      ],
    ] as const
  ) {
    gw.rewrite(text);
    const { status, body } = await reload(gw.base);
    assert.equal(status, 400);
    assert.match(body, reason);
  }
  assert.equal(await metric(gw.base, 'mcpstead_config_reloads_total{result="error"}'), 2);
  await using client = await connectClient(gw.url);
  const echo = await client.callTool({ name: "a__echo", arguments: { text: "still" } });
  assert.equal((echo.content as Array<{ text: string }>)[0]!.text, "a:still");
});

Deno.test("a port change is reported as needing a restart; variables and tokens are read again", async () => {
  await using a = await startHttpFixture({ name: "a" });
  const env: Record<string, string> = { TOKEN: "one", TEAM: "red" };
  const yaml = (port: number, team = "${TEAM}") =>
    `port: ${port}\nservers:\n${
      upstream(
        "a",
        a.url,
        `    auth: { type: bearer, token_env: TOKEN }\n    headers:\n      X-Team: '${team}'\n`,
      )
    }`;
  await using gw = await startGateway(yaml(8766), env);
  await waitFor(() => gw.gateway.catalog().size > 0);
  env.TOKEN = "two";
  gw.rewrite(yaml(9999));
  const { body } = await reload(gw.base);
  assert.deepEqual(body.restart_required, ["port"]);
  assert.deepEqual(body.servers.restarted, ["a"], "a new token restarts the server");
  await waitFor(() => gw.gateway.health().status === "ok");
  await using client = await connectClient(gw.url);
  await client.callTool({ name: "a__echo", arguments: { text: "x" } });
  const calls = () =>
    a.requests.filter((r) => (r.body as { method?: string })?.method === "tools/call");
  assert.equal(calls().at(-1)!.headers.authorization, "Bearer two");
  assert.equal(calls().at(-1)!.headers["x-team"], "red");
  gw.rewrite(yaml(9999, "blue"));
  const headerChange = await reload(gw.base);
  assert.deepEqual(
    headerChange.body.servers.restarted,
    ["a"],
    "a changed header restarts the server",
  );
  await waitFor(() => gw.gateway.health().status === "ok");
  await client.callTool({ name: "a__echo", arguments: { text: "y" } });
  assert.equal(calls().at(-1)!.headers["x-team"], "blue");
});

Deno.test("POST /-/reload is behind downstream auth when auth is on", async () => {
  await using gw = await startGateway("mcp:\n  auth:\n    mode: bearer\n", {
    MCPSTEAD_BEARER_TOKEN: "tok",
  });
  assert.equal((await reload(gw.base)).status, 401);
  assert.equal((await reload(gw.base, { authorization: "Bearer tok" })).status, 200);
});

Deno.test("reloading while 20 clients call in a loop fails no call", async () => {
  await using a = await startHttpFixture({ name: "a" });
  await using b = await startHttpFixture({ name: "b" });
  const one = `servers:\n${upstream("a", a.url)}`;
  const two = `servers:\n${upstream("a", a.url)}${upstream("b", b.url)}`;
  await using gw = await startGateway(one);
  await waitFor(() => gw.gateway.catalog().size > 0);
  const clients = await Promise.all(Array.from({ length: 20 }, () => connectClient(gw.url)));
  let running = true;
  let calls = 0;
  let inFlight = 0;
  const inFlightAtReload: number[] = [];
  const failures: unknown[] = [];
  const loops = clients.map(async (client, i) => {
    while (running) {
      inFlight++;
      try {
        const r = await client.callTool({ name: "a__echo", arguments: { text: `${i}` } });
        if ((r.content as Array<{ text: string }>)[0]!.text !== `a:${i}`) failures.push(r);
        calls++;
      } catch (error) {
        failures.push(error);
      } finally {
        inFlight--;
      }
    }
  });
  try {
    for (let round = 0; round < 6; round++) {
      gw.rewrite(round % 2 === 0 ? two : one);
      const before = calls;
      inFlightAtReload.push(inFlight);
      assert.equal((await reload(gw.base)).status, 200);
      // Every client gets through at least one more call before the next reload.
      await waitFor(() => calls >= before + clients.length, "calls after the reload");
    }
  } finally {
    running = false;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.close()));
  }
  assert.deepEqual(failures, []);
  assert.ok(inFlightAtReload.every((n) => n > 0), `calls in flight: ${inFlightAtReload}`);
});

Deno.test("a reload that restarts a server keeps its tools listed and sends list_changed only for a real change", async () => {
  await using a = await startHttpFixture({ name: "a" });
  await using b = await startHttpFixture({ name: "b" });
  await using gw = await startGateway(`servers:\n${upstream("a", a.url)}${upstream("b", b.url)}`);
  await waitFor(() => gw.gateway.health().status === "ok");
  await using client = await connectClient(gw.url);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  const names = async () => (await client.listTools()).tools.map((t) => t.name);
  const before = await names();
  gw.rewrite(
    `servers:\n${upstream("a", a.url, "    headers: { X-New: '1' }\n")}${upstream("b", b.url)}`,
  );
  assert.deepEqual((await reload(gw.base)).body.servers.restarted, ["a"]);
  assert.deepEqual(await names(), before, "a's tools stay listed while it reconnects");
  await waitFor(() => gw.gateway.health().status === "ok", "a to reconnect");
  gw.rewrite(`servers:\n${upstream("a", a.url, "    headers: { X-New: '1' }\n")}`);
  await reload(gw.base);
  await waitFor(() => changed > 0, "list_changed for the removed server");
  assert.equal(changed, 1, "the restart of a sent none");
});
