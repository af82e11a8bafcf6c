import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { basicAuthenticator, bearerAuthenticator, keysAuthenticator } from "../../src/http/auth.ts";
import { readCappedBody } from "../../src/http/body.ts";
import { createOriginGuard } from "../../src/http/origin.ts";

const req = (headers: Record<string, string>) => new Request("http://127.0.0.1/mcp", { headers });

Deno.test("bearerAuthenticator() accepts the token and tells missing, malformed and wrong apart", () => {
  const check = bearerAuthenticator("s3cret");
  assert.deepEqual(check(req({ authorization: "Bearer s3cret" })), {
    ok: true,
    identity: { name: "bearer" },
  });
  assert.deepEqual(check(req({ authorization: "bearer s3cret" })), {
    ok: true,
    identity: { name: "bearer" },
  });
  assert.deepEqual(check(req({})), { ok: false, reason: "missing_header" });
  assert.deepEqual(check(req({ authorization: "Basic abc" })), { ok: false, reason: "bad_format" });
  assert.deepEqual(check(req({ authorization: "Bearer s3cre" })), {
    ok: false,
    reason: "wrong_token",
  });
  assert.deepEqual(check(req({ authorization: "Bearer s3cret-and-more" })), {
    ok: false,
    reason: "wrong_token",
  });
});

Deno.test("createOriginGuard() on loopback refuses a foreign Host or Origin and allows local ones", () => {
  const guard = createOriginGuard({
    bindHost: "127.0.0.1",
    allowedOrigins: ["https://app.example.com"],
  });
  assert.equal(guard(req({ host: "127.0.0.1:8766" })), undefined);
  assert.equal(guard(req({ host: "localhost:8766", origin: "http://localhost:3000" })), undefined);
  assert.equal(guard(req({ host: "[::1]:8766" })), undefined);
  assert.equal(
    guard(req({ host: "127.0.0.1:8766", origin: "https://app.example.com" })),
    undefined,
  );
  assert.match(
    guard(req({ host: "evil.example.com", origin: "http://evil.example.com" }))!,
    /Host/,
  );
  assert.match(
    guard(req({ host: "127.0.0.1:8766", origin: "http://evil.example.com" }))!,
    /Origin/,
  );
  assert.match(guard(req({ host: "127.0.0.1:8766", origin: "null" }))!, /Origin/);
});

Deno.test("createOriginGuard() on a public bind allows same-origin browsers only", () => {
  const guard = createOriginGuard({ bindHost: "0.0.0.0", allowedOrigins: [] });
  assert.equal(guard(req({ host: "gw.example.com" })), undefined);
  assert.equal(guard(req({ host: "gw.example.com", origin: "https://gw.example.com" })), undefined);
  assert.match(
    guard(req({ host: "gw.example.com", origin: "https://other.example.com" }))!,
    /Origin/,
  );
});

Deno.test("readCappedBody() refuses a declared length over the limit without reading", async () => {
  const request = new Request("http://127.0.0.1/mcp", {
    method: "POST",
    body: "{}",
    headers: { "content-length": String(10 * 1024 ** 3) },
  });
  await assert.rejects(readCappedBody(request, 1024), /over the 1024 byte limit/);
});

Deno.test("readCappedBody() stops a streamed body as soon as it passes the limit", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(512));
    },
  });
  const request = new Request("http://127.0.0.1/mcp", { method: "POST", body });
  await assert.rejects(readCappedBody(request, 1024), /more than the 1024 byte limit/);
  assert.ok(pulled <= 4, `read ${pulled} chunks`);
});

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

Deno.test("keysAuthenticator() names the client whose key matches and refuses others", () => {
  const check = keysAuthenticator([{ name: "ci", keySha256: sha("k1") }, {
    name: "bot",
    keySha256: sha("k2"),
  }]);
  const name = (header: string) => {
    const result = check(req({ authorization: header }));
    return result.ok ? result.identity.name : result.reason;
  };
  assert.equal(name("Bearer k1"), "ci");
  assert.equal(name("Bearer k2"), "bot");
  assert.equal(name("Bearer k3"), "wrong_token");
  assert.equal(check.scheme, "Bearer");
});

Deno.test("basicAuthenticator() checks user and password hash, and tells malformed input apart", () => {
  const check = basicAuthenticator([{ name: "ana", passwordSha256: sha("pässword") }]);
  const basic = (text: string) =>
    `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}`;
  const result = (header: string) => {
    const r = check(req({ authorization: header }));
    return r.ok ? r.identity.name : r.reason;
  };
  assert.equal(result(basic("ana:pässword")), "ana");
  assert.equal(result(basic("ana:wrong")), "wrong_token");
  assert.equal(result(basic("bob:pässword")), "wrong_token");
  assert.equal(result(basic("no-colon")), "bad_format");
  assert.equal(result("Basic !!!not-base64"), "bad_format");
  assert.equal(check.scheme, "Basic");
});
