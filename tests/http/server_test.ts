import assert from "node:assert/strict";
import { readCappedBody } from "../../src/http/body.ts";
import { jsonResponse } from "../../src/http/prepared.ts";
import type { Handler } from "../../src/http/router.ts";
import { serveHttp } from "../../src/http/server.ts";
import { createLogger } from "../../src/log.ts";
import { RawClient, serveOnLoopback, splitResponses, TEST_LIMITS } from "../_support/raw_http.ts";
import { waitFor } from "../_support/wait.ts";

/** Answers with the method, URL, peer address and body it received. */
const echo: Handler = async (req, info) =>
  Response.json({
    method: req.method,
    url: req.url,
    remote: info.remoteAddr,
    body: await req.text(),
    host: req.headers.get("host"),
  });

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

Deno.test("HttpServer answers with Content-Length, keeps the connection and the client's address", async () => {
  await using server = serveOnLoopback(echo);
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/a?x=1"));
  await client.send(get("/b"));
  const [first, second] = splitResponses(await client.readResponses(2));
  assert.equal(first!.status, 200);
  assert.equal(first!.headers["content-length"], String(first!.body.length));
  assert.match(first!.headers["date"]!, /GMT$/);
  const seen = JSON.parse(first!.body);
  assert.equal(seen.url, `http://127.0.0.1:${server.addr.port}/a?x=1`);
  assert.match(seen.remote, /^127\.0\.0\.1:\d+$/);
  assert.equal(JSON.parse(second!.body).url, `http://127.0.0.1:${server.addr.port}/b`);
  assert.equal(client.closed, false);
});

Deno.test("HttpServer routes on the request target, never on Host; a Host with a path is 400", async () => {
  await using server = serveOnLoopback(echo);
  using absolute = await RawClient.open(server.addr.port);
  await absolute.send("GET http://evil.example/-/x?y HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  const [answer] = splitResponses(await absolute.readResponses(1));
  assert.equal(JSON.parse(answer!.body).url, `http://127.0.0.1:${server.addr.port}/-/x?y`);
  for (const host of ["127.0.0.1:8766/-/reload?", "a b", "user@host", "host:", ""]) {
    using client = await RawClient.open(server.addr.port);
    await client.send(`POST /health HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\n\r\n`);
    const text = await client.readToEnd();
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/, host);
    assert.match(text, /is not a host name or address with an optional port/);
  }
});

Deno.test("HttpServer refuses ambiguous framing (request smuggling) with 400 or 501 and closes", async () => {
  await using server = serveOnLoopback(echo);
  const cases: Array<[string, number, RegExp]> = [
    [
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
      501,
      /Transfer-Encoding "gzip"/,
    ],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      501,
      /Transfer-Encoding/,
    ],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      400,
      /differing Content-Length/,
    ],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400, /Content-Length/],
    ["GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 400, /invalid header line/],
    ["GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n", 400, /obs-fold/],
    ["GET / HTTP/1.1\nHost: a\n\n", 400, /bare LF/],
    ["GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400, /bare CR/],
    ["GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01\r\n\r\n", 400, /control character/],
    ["GET / HTTP/1.1\r\n\r\n", 400, /no Host header/],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, /more than one Host/],
    ["GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, /request line/],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, /HTTP Version Not Supported/],
    ["GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, /Expectation Failed/],
  ];
  for (const [request, status, message] of cases) {
    using client = await RawClient.open(server.addr.port);
    await client.send(request);
    const text = await client.readToEnd();
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(request));
    assert.match(text, message, JSON.stringify(request));
    assert.match(text, /connection: close\r\n/);
    assert.equal(client.closed, true);
  }
});

Deno.test("HttpServer answers 414 to a long request line and 431 to a header block over the limit", async () => {
  await using server = serveOnLoopback(echo, { maxHeaderBytes: 2048 });
  using long = await RawClient.open(server.addr.port);
  await long.send(get(`/${"a".repeat(9000)}`));
  assert.match(await long.readToEnd(), /^HTTP\/1\.1 414 URI Too Long\r\n/);
  using huge = await RawClient.open(server.addr.port);
  await huge.send(get("/", `X-Big: ${"b".repeat(3000)}\r\n`));
  assert.match(await huge.readToEnd(), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  using fits = await RawClient.open(server.addr.port);
  await fits.send(get("/", `X-Big: ${"b".repeat(1500)}\r\n`));
  assert.equal(splitResponses(await fits.readResponses(1))[0]!.status, 200);
});

Deno.test("HttpServer answers pipelined requests in order, the slow one first", async () => {
  const handler: Handler = async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") await new Promise((resolve) => setTimeout(resolve, 50));
    return new Response(path);
  };
  await using server = serveOnLoopback(handler);
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/slow") + get("/fast") + get("/last"));
  const answers = splitResponses(await client.readResponses(3)).map((r) => r.body);
  assert.deepEqual(answers, ["/slow", "/fast", "/last"]);
});

Deno.test("HttpServer streams chunked request bodies; readCappedBody still caps them", async () => {
  const handler: Handler = async (req) => {
    try {
      const body = await readCappedBody(req, 100_000, AbortSignal.timeout(5000));
      return new Response(
        `got ${body.length} bytes ending ${new TextDecoder().decode(body.slice(-3))}`,
      );
    } catch (error) {
      return new Response((error as Error).message, { status: 413 });
    }
  };
  await using server = serveOnLoopback(handler);
  using client = await RawClient.open(server.addr.port);
  await client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  const piece = "x".repeat(30_000);
  for (let i = 0; i < 3; i++) {
    await client.send(`${piece.length.toString(16)};ext=1\r\n${piece}\r\n`);
  }
  await client.send("3\r\nend\r\n0\r\nTrailer: t\r\n\r\n");
  await client.send(get("/after"));
  const [first, second] = splitResponses(await client.readResponses(2));
  assert.equal(first!.body, "got 90003 bytes ending end");
  assert.equal(second!.status, 200);
  using over = await RawClient.open(server.addr.port);
  await over.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (let i = 0; i < 4; i++) await over.send(`${piece.length.toString(16)}\r\n${piece}\r\n`);
  const text = await over.readToEnd();
  assert.match(text, /^HTTP\/1\.1 413 /);
  assert.match(text, /connection: close/);
});

Deno.test("HttpServer: readCappedBody's deadline still ends a body that trickles in (408, then close)", async () => {
  const handler: Handler = async (req) => {
    try {
      await readCappedBody(req, 1000, 200);
      return new Response("read");
    } catch (error) {
      const late = error instanceof DOMException && error.name === "TimeoutError";
      return new Response(late ? "too slow" : "other", { status: late ? 408 : 400 });
    }
  };
  await using server = serveOnLoopback(handler);
  using client = await RawClient.open(server.addr.port);
  const started = Date.now();
  await client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
  const text = await client.readToEnd(3000);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.match(text, /connection: close\r\n/);
  assert.ok(Date.now() - started < 2000);
});

Deno.test("HttpServer sends 100 Continue only when the handler reads the body", async () => {
  await using server = serveOnLoopback(echo);
  using client = await RawClient.open(server.addr.port);
  await client.send(
    "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
  );
  assert.equal(
    await client.readUntil((t) => t.includes("\r\n\r\n")),
    "HTTP/1.1 100 Continue\r\n\r\n",
  );
  await client.send("hello");
  const text = await client.readUntil((t) => splitResponses(t.slice(25)).length === 1);
  assert.equal(JSON.parse(splitResponses(text.slice(25))[0]!.body).body, "hello");
  const refuse: Handler = () => new Response("too big", { status: 413 });
  await using strict = serveOnLoopback(refuse);
  using refused = await RawClient.open(strict.addr.port);
  await refused.send(
    "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
  );
  const answer = await refused.readToEnd();
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.doesNotMatch(answer, /100 Continue/);
});

Deno.test("HttpServer closes after HTTP/1.0 and Connection: close; HEAD gets no body", async () => {
  await using server = serveOnLoopback(() => new Response("hello"));
  using old = await RawClient.open(server.addr.port);
  await old.send("GET / HTTP/1.0\r\n\r\n");
  const oldText = await old.readToEnd();
  assert.match(oldText, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(oldText, /connection: close\r\n/);
  assert.ok(oldText.endsWith("\r\n\r\nhello"));
  using closing = await RawClient.open(server.addr.port);
  await closing.send(get("/", "Connection: close\r\n") + get("/ignored"));
  const closingText = await closing.readToEnd();
  assert.equal(splitResponses(closingText).length, 1);
  using head = await RawClient.open(server.addr.port);
  await head.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" + get("/"));
  const text = await head.readResponses(2);
  assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"));
  assert.equal(text.split("HTTP/1.1 200 OK").length, 3);
  assert.equal(text.split("hello").length, 2, "only the GET has a body");
});

Deno.test("HttpServer streams event streams chunk by chunk; a client that leaves cancels the body and aborts req.signal", async () => {
  const send = Promise.withResolvers<(text: string) => void>();
  const cancelled = Promise.withResolvers<unknown>();
  const aborted = Promise.withResolvers<unknown>();
  const handler: Handler = (req) => {
    req.signal.addEventListener("abort", () => aborted.resolve(req.signal.reason), { once: true });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => send.resolve((text) => controller.enqueue(encoder.encode(text))),
      cancel: (reason) => cancelled.resolve(reason),
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
  await using server = serveOnLoopback(handler);
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/events"));
  await client.readUntil((t) => t.includes("\r\n\r\n"));
  assert.match(client.text, /transfer-encoding: chunked\r\n/);
  assert.doesNotMatch(client.text, /content-length/);
  const write = await send.promise;
  write("data: one\n\n");
  await client.readUntil((t) => t.includes("data: one\n\n"));
  write("data: two\n\n");
  await client.readUntil((t) => t.includes("b\r\ndata: two\n\n\r\n"));
  client.close();
  assert.equal((await cancelled.promise as DOMException).name, "AbortError");
  assert.equal((await aborted.promise as DOMException).name, "AbortError");
  await waitFor(() => server.connections === 0, "the connection to close");
});

Deno.test("HttpServer closes a slow head (slowloris) with 408 after header_timeout, and idle connections after idle_timeout", async () => {
  await using server = serveOnLoopback(() => new Response("ok"), {
    headerTimeoutMs: 300,
    idleTimeoutMs: 600,
  });
  const started = Date.now();
  using slow = await RawClient.open(server.addr.port);
  await slow.send("GET / HTTP/1.1\r\nHost: a\r\n");
  const dripping = (async () => {
    for (let i = 0; i < 20 && !slow.closed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await slow.send("X-Drip: 1\r\n").catch(() => {});
    }
  })();
  const text = await slow.readToEnd(3000);
  await dripping;
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 1500, `closed after ${elapsed} ms`);

  using idle = await RawClient.open(server.addr.port);
  await idle.send(get("/"));
  await idle.readResponses(1);
  const answered = Date.now();
  await idle.readToEnd(3000);
  const idleFor = Date.now() - answered;
  assert.equal(idle.closed, true);
  assert.ok(idleFor >= 400 && idleFor < 2000, `idle connection closed after ${idleFor} ms`);
  assert.equal(splitResponses(idle.text).length, 1, "no 408 for an idle connection");
});

Deno.test("HttpServer does not time out a long response (an SSE stream is not idle)", async () => {
  const handler: Handler = () => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        controller.enqueue(new TextEncoder().encode("data: late\n\n"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
  await using server = serveOnLoopback(handler, { headerTimeoutMs: 100, idleTimeoutMs: 100 });
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/"));
  const [answer] = splitResponses(await client.readResponses(1));
  assert.equal(answer!.body, "data: late\n\n");
});

Deno.test("HttpServer refuses connections over max_connections with 503 naming the setting", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  await using server = serveOnLoopback(() => new Response("ok"), { maxConnections: 2 }, log);
  using a = await RawClient.open(server.addr.port);
  using b = await RawClient.open(server.addr.port);
  await waitFor(() => server.connections === 2, "two connections");
  using c = await RawClient.open(server.addr.port);
  const refused = await c.readToEnd();
  assert.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(refused, /mcp\.limits\.max_connections/);
  assert.equal(lines.filter((l) => l.includes("max_connections")).length, 1);
  await a.send(get("/"));
  assert.equal(splitResponses(await a.readResponses(1))[0]!.status, 200);
  b.close();
  await waitFor(() => server.connections === 1, "a slot to free");
  using d = await RawClient.open(server.addr.port);
  await d.send(get("/"));
  assert.equal(splitResponses(await d.readResponses(1))[0]!.status, 200);
});

Deno.test("HttpServer keeps accepting after accept fails with EMFILE, logging it once", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let failures = 0;
  const flaky = {
    get addr() {
      return real.addr;
    },
    accept() {
      if (failures < 5) {
        failures++;
        return Promise.reject(new Error("Too many open files (os error 24)"));
      }
      return real.accept();
    },
    close: () => real.close(),
  } as unknown as Deno.Listener;
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  await using server = serveHttp(flaky, () => new Response("still here"), {
    limits: TEST_LIMITS,
    log,
  });
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/"));
  assert.equal(splitResponses(await client.readResponses(1))[0]!.body, "still here");
  assert.equal(failures, 5);
  const errors = lines.filter((l) => l.includes("Cannot accept connections"));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /Too many open files/);
  assert.ok(lines.some((l) => l.includes("accepting connections again")));
});

Deno.test("HttpServer answers 500 when the handler throws, and keeps serving", async () => {
  await using server = serveOnLoopback((req) => {
    if (req.url.endsWith("/boom")) throw new Error("boom");
    return new Response("fine");
  });
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/boom") + get("/"));
  const [failed, fine] = splitResponses(await client.readResponses(2));
  assert.equal(failed!.status, 500);
  assert.doesNotMatch(failed!.body, /boom/);
  assert.equal(fine!.body, "fine");
});

Deno.test("HttpServer.shutdown() lets a request in progress finish, closes idle connections and stops accepting", async () => {
  const release = Promise.withResolvers<void>();
  const entered = Promise.withResolvers<void>();
  const handler: Handler = async () => {
    entered.resolve();
    await release.promise;
    return new Response("finished");
  };
  const server = serveOnLoopback(handler);
  const port = server.addr.port;
  using busy = await RawClient.open(port);
  using idle = await RawClient.open(port);
  await busy.send(get("/"));
  await entered.promise;
  await waitFor(() => server.connections === 2, "two connections");
  const stopped = server.shutdown();
  await idle.readToEnd();
  assert.equal(idle.closed, true);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  release.resolve();
  const text = await busy.readToEnd();
  assert.match(text, /connection: close\r\n/);
  assert.ok(text.endsWith("finished"));
  await stopped;
});

Deno.test("HttpServer writes a prepared JSON answer with its status, fields and UTF-8 length, small or large", async () => {
  const large = JSON.stringify({ text: "x".repeat(70_000) });
  await using server = serveOnLoopback((req) =>
    new URL(req.url).pathname === "/large"
      ? jsonResponse(large)
      : jsonResponse('{"a":"é"}', 201, { "mcp-session-id": "s1" })
  );
  using client = await RawClient.open(server.addr.port);
  await client.send(get("/large"));
  await client.send(get("/small", "Connection: close\r\n"));
  const text = await client.readToEnd();
  const [first] = splitResponses(text);
  assert.equal(first!.status, 200);
  assert.equal(first!.headers["content-length"], String(large.length));
  assert.equal(first!.body, large);
  assert.match(
    text,
    /HTTP\/1\.1 201 Created\r\ncontent-type: application\/json\r\nmcp-session-id: s1\r\ndate: [^\r]+ GMT\r\nconnection: close\r\ncontent-length: 10\r\n\r\n\{"a":"é"\}$/,
  );
});
