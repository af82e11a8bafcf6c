import assert from "node:assert/strict";
import { GatewayError } from "../../src/mcp/errors.ts";
import type { JsonRpcMessage } from "../../src/mcp/jsonrpc.ts";
import { silentLogger } from "../../src/log.ts";
import type { Connector } from "../../src/upstream/http1_client.ts";
import { RpcClient } from "../../src/upstream/rpc_client.ts";
import { StreamableHttpTransport } from "../../src/upstream/streamable.ts";
import type { HttpClientChoice } from "../../src/upstream/http_exchange.ts";
import { startHttpFixture } from "../fixtures/http_server.ts";
import { RESUMED_RESULT, startRawFixture } from "../fixtures/raw_server.ts";
import { startTlsFront, TEST_CA_FILE } from "../_support/tls_front.ts";
import { waitFor } from "../_support/wait.ts";

const call: JsonRpcMessage = {
  jsonrpc: "2.0",
  id: 7,
  method: "tools/call",
  params: { name: "t" },
};

/** A connector to 127.0.0.1:`port` that counts the connections it opens. */
function counting(port: number): Connector & { opened: number; conns: Deno.Conn[] } {
  const connect = Object.assign(async (signal: AbortSignal) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port, signal });
    connect.opened++;
    connect.conns.push(conn);
    return conn;
  }, { opened: 0, conns: [] as Deno.Conn[] });
  return connect;
}

function transport(url: string, client: HttpClientChoice, fetchImpl?: typeof fetch) {
  const delivered: JsonRpcMessage[] = [];
  const t = new StreamableHttpTransport({
    server: "up",
    url,
    headers: { authorization: "Bearer token-1" },
    userAgent: "test",
    log: silentLogger,
    client,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  t.open((m) => delivered.push(m), () => {});
  return { t, delivered };
}

/** An RpcClient over a native Streamable HTTP transport to `url`. */
function rpcOver(url: string, client: HttpClientChoice) {
  const t = new StreamableHttpTransport({
    server: "up",
    url,
    headers: {},
    userAgent: "test",
    log: silentLogger,
    client,
  });
  const rpc = new RpcClient({
    server: "up",
    transport: t,
    clientInfo: { name: "t", version: "1" },
    log: silentLogger,
    timeoutMs: 5000,
  });
  return { t, rpc };
}

/** A scripted upstream: each connection reads the request, then gets `answer` in reads of `size` bytes. */
function scripted(answer: string, size: number): Connector & { requests: string[] } {
  const bytes = new TextEncoder().encode(answer);
  const requests: string[] = [];
  const connect = (): Promise<Deno.Conn> => {
    let offset = 0;
    let closed = false;
    const conn = {
      write(data: Uint8Array) {
        requests.push(new TextDecoder().decode(data));
        return Promise.resolve(data.length);
      },
      read(into: Uint8Array): Promise<number | null> {
        if (closed) return Promise.reject(new Deno.errors.BadResource("closed"));
        if (offset >= bytes.length) return Promise.resolve(null);
        const n = Math.min(size, into.length, bytes.length - offset);
        into.set(bytes.subarray(offset, offset + n));
        offset += n;
        return Promise.resolve(n);
      },
      close() {
        closed = true;
      },
    };
    return Promise.resolve(conn as unknown as Deno.Conn);
  };
  return Object.assign(connect, { requests });
}

Deno.test("native client: SSE answers and JSON answers split across reads at every byte boundary", async () => {
  const events =
    `: hi\r\n\r\nevent: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress",` +
    `"params":{"progressToken":7,"progress":1}}\r\n\r\nid: 1\ndata: {"jsonrpc":"2.0","id":7,\n` +
    `data: "result":{"ok":true}}\n\n`;
  const chunked =
    `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n` +
    `${events.length.toString(16)}\r\n${events}\r\n0\r\n\r\n`;
  const json = '{"jsonrpc":"2.0","id":7,"result":{"text":"h\u00e9llo"}}';
  const plain = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ` +
    `${new TextEncoder().encode(json).length}\r\n\r\n${json}`;
  for (const [answer, expected] of [[chunked, 2], [plain, 1]] as const) {
    for (let size = 1; size <= answer.length; size++) {
      const { t, delivered } = transport("http://127.0.0.1:1/mcp", {
        mode: "native",
        connect: scripted(answer, size),
      });
      await t.send(call, AbortSignal.timeout(5000));
      assert.equal(delivered.length, expected, `reads of ${size} bytes`);
      const last = delivered.at(-1) as unknown as { id: number; result: unknown };
      assert.equal(last.id, 7);
      if (expected === 1) assert.deepEqual(last.result, { text: "h\u00e9llo" });
      else assert.deepEqual(last.result, { ok: true });
      await t.close();
    }
  }
});

Deno.test("native client: the request goes out in one write with the MCP headers and Content-Length", async () => {
  const json = '{"jsonrpc":"2.0","id":7,"result":{"a":1}}';
  const answer = `HTTP/1.1 200 OK\r\ncontent-length: ${json.length}\r\n\r\n${json}`;
  const connect = scripted(answer, 1000);
  const { t } = transport("http://127.0.0.1:1/mcp?k=v", { mode: "native", connect });
  await t.send(call, AbortSignal.timeout(1000));
  assert.equal(connect.requests.length, 1);
  const [head, body] = connect.requests[0]!.split("\r\n\r\n");
  assert.match(head!, /^POST \/mcp\?k=v HTTP\/1\.1\r\nhost: 127\.0\.0\.1:1\r\n/);
  assert.match(head!, /\r\nauthorization: Bearer token-1\r\n/);
  assert.match(head!, /\r\naccept: application\/json, text\/event-stream\r\n/);
  assert.match(head!, /\r\ncontent-type: application\/json\r\n/);
  assert.match(head!, new RegExp(`\r\ncontent-length: ${body!.length}$`));
  assert.deepEqual(JSON.parse(body!), call);
  await t.close();
});

Deno.test("native client: kept-alive connections serve sequential calls, JSON and SSE alike", async () => {
  await using sdk = await startHttpFixture({ name: "up" });
  const connect = counting(sdk.port);
  const { t, rpc } = rpcOver(sdk.url, { mode: "native", connect });
  await rpc.connect();
  for (let i = 0; i < 20; i++) {
    const result = await rpc.request("tools/call", {
      name: "echo",
      arguments: { text: `n${i}` },
    }, { timeoutMs: 5000 });
    assert.deepEqual(result.content, [{ type: "text", text: `up:n${i}` }]);
  }
  // The GET stream holds one; a call may start while the last SSE answer's end is still being
  // read, so two serve the calls, however many there are.
  assert.ok(connect.opened <= 3, `${connect.opened} connections for 22 requests`);
  assert.equal(t.httpClient.mode, "native");
  await rpc.close();
});

Deno.test("native client: a connection is reused after an SSE answer ends", async () => {
  await using raw = await startRawFixture("progress-first");
  const connect = counting(raw.port);
  const { rpc } = rpcOver(raw.url, { mode: "native", connect });
  await rpc.connect();
  const opened = connect.opened;
  for (let i = 0; i < 5; i++) {
    await rpc.request("tools/call", { name: "t" }, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(connect.opened, opened, "the calls reused the connection of initialize");
  await rpc.close();
});

Deno.test("native client: an answer larger than one read arrives whole", async () => {
  const big = "x".repeat(1_500_000);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const { id } = await req.json();
    return Response.json({ jsonrpc: "2.0", id, result: { big } });
  });
  const { t, delivered } = transport(`http://127.0.0.1:${server.addr.port}/mcp`, {
    mode: "native",
  });
  await t.send(call, AbortSignal.timeout(5000));
  assert.equal(
    (delivered[0] as unknown as { result: { big: string } }).result.big.length,
    big.length,
  );
  await t.close();
  await server.shutdown();
});

Deno.test("native client: an upstream that closes mid-body fails the call as disconnected, unless it can be resumed", async () => {
  const cases = [
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"jsonrpc"',
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{",
  ];
  for (const answer of cases) {
    const { t } = transport("http://127.0.0.1:1/mcp", {
      mode: "native",
      connect: scripted(answer, 7),
    });
    await assert.rejects(
      t.send(call, AbortSignal.timeout(1000)),
      (e) => e instanceof GatewayError && e.code === "upstream_disconnected",
    );
    await t.close();
  }
  // A stream broken after an event id is resumed with Last-Event-ID, and the call answers.
  await using drop = await startRawFixture("drop");
  const { rpc } = rpcOver(drop.url, { mode: "native" });
  await rpc.connect();
  assert.deepEqual(
    await rpc.request("tools/call", { name: "t" }, { timeoutMs: 5000 }),
    RESUMED_RESULT,
  );
  await rpc.close();
});

Deno.test("native client: a deadline and a cancellation close the connection; the next call gets a new one", async () => {
  await using hang = await startRawFixture("hang");
  const connect = counting(hang.port);
  const { rpc } = rpcOver(hang.url, { mode: "native", connect });
  await rpc.connect();
  const started = Date.now();
  await assert.rejects(
    rpc.request("tools/call", { name: "t" }, { timeoutMs: 200 }),
    (e) => e instanceof GatewayError && e.code === "upstream_timeout",
  );
  assert.ok(Date.now() - started < 1500);
  const cancel = new AbortController();
  const cancelled = rpc.request("tools/call", { name: "t" }, {
    timeoutMs: 5000,
    signal: cancel.signal,
  });
  await waitFor(() => hang.executions === 2, "the second call to arrive");
  cancel.abort();
  await assert.rejects(
    cancelled,
    (e) => e instanceof GatewayError && e.code === "upstream_cancelled",
  );
  const before = connect.opened;
  await assert.rejects(rpc.request("tools/call", { name: "t" }, { timeoutMs: 100 }));
  assert.ok(connect.opened > before, "a closed connection is not reused");
  await rpc.close();
});

Deno.test("native client: a 3xx is never followed; the error names the location without secrets", async () => {
  let followed = 0;
  const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    followed++;
    return new Response("{}");
  });
  const location = `http://user:pw@127.0.0.1:${target.addr.port}/steal?api_key=SECRET&x=1`;
  const redirect = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 307, headers: { location } }),
  );
  const url = `http://127.0.0.1:${redirect.addr.port}/mcp`;
  for (const client of [{ mode: "native" }, { mode: "fetch", reason: "test" }] as const) {
    const { t } = transport(url, client);
    const error = await t.send(call, AbortSignal.timeout(2000)).then(() => undefined, (e) => e);
    assert.ok(error instanceof GatewayError && error.code === "upstream_http_error", client.mode);
    assert.match(error.message, /HTTP 307/);
    assert.match(
      error.message,
      /a redirect to 'http:\/\/\*\*\*@127\.0\.0\.1:\d+\/steal\?api_key=\*\*\*&x=\*\*\*', not followed/,
    );
    assert.doesNotMatch(error.message, /SECRET|pw/);
    await t.close();
  }
  assert.equal(followed, 0);
  await redirect.shutdown();
  await target.shutdown();
});

Deno.test("native client over TLS trusts tls_ca_file, and refuses an unknown CA naming the fix", async () => {
  await using sdk = await startHttpFixture({ name: "up", jsonResponse: true });
  await using front = startTlsFront(sdk.port, ["http/1.1"]);
  const url = `https://localhost:${front.port}/mcp`;
  const ca = Deno.readTextFileSync(TEST_CA_FILE);
  const { rpc: trusted } = rpcOver(url, { mode: "native", caCerts: [ca] });
  await trusted.connect();
  const result = await trusted.request("tools/call", { name: "echo", arguments: { text: "tls" } }, {
    timeoutMs: 5000,
  });
  assert.deepEqual(result.content, [{ type: "text", text: "up:tls" }]);
  await trusted.close();
  const { rpc: untrusted } = rpcOver(url, { mode: "native" });
  await assert.rejects(
    untrusted.connect(),
    /Cannot reach upstream 'up'.*(certificate|UnknownIssuer)/,
  );
  await untrusted.close();
});

Deno.test("native client: an upstream that speaks only HTTP/2 is moved to fetch, and says why", async () => {
  const h2 = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) =>
      Response.json({ jsonrpc: "2.0", id: (await req.json()).id, result: { h2: true } }),
  );
  await using front = startTlsFront(h2.addr.port, ["h2"]);
  const ca = Deno.readTextFileSync(TEST_CA_FILE);
  const httpClient = Deno.createHttpClient({ caCerts: [ca] });
  const { t, delivered } = transport(
    `https://localhost:${front.port}/mcp`,
    { mode: "native", caCerts: [ca] },
    (input, init) => fetch(input, { ...init, client: httpClient }),
  );
  await t.send(call, AbortSignal.timeout(5000));
  assert.deepEqual((delivered[0] as unknown as { result: unknown }).result, { h2: true });
  assert.equal(t.httpClient.mode, "fetch");
  assert.match(t.httpClient.reason!, /refused HTTP\/1\.1 in the TLS handshake \(ALPN\)/);
  await t.send({ ...call, id: 8 }, AbortSignal.timeout(5000));
  assert.equal(delivered.length, 2);
  await t.close();
  httpClient.close();
  await h2.shutdown();
});
