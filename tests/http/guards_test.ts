import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { basicAuthenticator, bearerAuthenticator, keysAuthenticator } from "../../src/http/auth.ts";
import { readCappedBody } from "../../src/http/body.ts";
import {
  createOriginGuard,
  type GuardRefusal,
  hostOfHeader,
  remoteExposure,
} from "../../src/http/origin.ts";

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

const reasonOf = (refusal: GuardRefusal | undefined) =>
  refusal === undefined ? undefined : `${refusal.status} ${refusal.reason}`;

Deno.test("createOriginGuard() on loopback refuses a foreign Host or Origin and allows local ones", () => {
  const guard = createOriginGuard({
    bindHost: "127.0.0.1",
    allowedHosts: [],
    allowedOrigins: ["https://app.example.com"],
  });
  const check = (headers: Record<string, string>) => reasonOf(guard(req(headers)));
  assert.equal(check({ host: "127.0.0.1:8766" }), undefined);
  assert.equal(check({ host: "localhost:8766", origin: "http://localhost:3000" }), undefined);
  assert.equal(check({ host: "[::1]:8766" }), undefined);
  assert.equal(check({ host: "127.0.0.1:8766", origin: "https://app.example.com" }), undefined);
  assert.match(
    check({ host: "evil.example.com", origin: "http://evil.example.com" })!,
    /^403 Host/,
  );
  assert.match(
    check({ host: "127.0.0.1:8766", origin: "http://evil.example.com" })!,
    /^403 Origin/,
  );
  assert.match(check({ host: "127.0.0.1:8766", origin: "null" })!, /^403 Origin/);
});

Deno.test("createOriginGuard() on 0.0.0.0 refuses a rebound Host even when Origin matches it", () => {
  const guard = createOriginGuard({ bindHost: "0.0.0.0", allowedHosts: [], allowedOrigins: [] });
  const check = (headers: Record<string, string>) => reasonOf(guard(req(headers)));
  assert.equal(
    check({ host: "attacker.example:8766", origin: "http://attacker.example:8766" }),
    "403 Host 'attacker.example:8766' is not one of the gateway's names (see mcp.allowed_hosts)",
  );
  assert.match(check({ host: "gw.example.com" })!, /^403 Host 'gw.example.com'/);
  assert.match(check({ host: "0.0.0.0:8766" })!, /^403 Host/, "the wildcard is not a name");
  // A container published on the host's loopback (-p 127.0.0.1:8766:8766) keeps working.
  assert.equal(check({ host: "127.0.0.1:8766" }), undefined);
  assert.equal(check({ host: "localhost:8766", origin: "http://localhost:8766" }), undefined);
});

Deno.test("createOriginGuard() allows mcp.allowed_hosts and the bind address, and same-origin pages on them", () => {
  const guard = createOriginGuard({
    bindHost: "10.0.0.5",
    allowedHosts: ["gw.example.com", "::2"],
    allowedOrigins: [],
  });
  const check = (headers: Record<string, string>) => reasonOf(guard(req(headers)));
  assert.equal(check({ host: "gw.example.com" }), undefined);
  assert.equal(check({ host: "GW.Example.com.:443" }), undefined, "case and a trailing dot");
  assert.equal(check({ host: "10.0.0.5:8766" }), undefined);
  assert.equal(check({ host: "[::2]:8766" }), undefined);
  assert.equal(check({ host: "gw.example.com", origin: "https://gw.example.com" }), undefined);
  assert.match(
    check({ host: "gw.example.com", origin: "https://other.example.com" })!,
    /^403 Origin/,
  );
  assert.match(check({ host: "10.0.0.6" })!, /^403 Host/);
  const named = createOriginGuard({
    bindHost: "gw.internal",
    allowedHosts: [],
    allowedOrigins: [],
  });
  assert.equal(named(req({ host: "gw.internal:8766" })), undefined);
});

Deno.test("createOriginGuard() answers 400 to a Host that is not host[:port]", () => {
  const guard = createOriginGuard({ bindHost: "127.0.0.1", allowedHosts: [], allowedOrigins: [] });
  for (
    const host of [
      "127.0.0.1:8766/-/reload?",
      "127.0.0.1/x",
      "user@127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:80:80",
      "[::1",
      "::1",
      "a b",
      "127.0.0.1:123456",
      "",
    ]
  ) {
    const refusal = guard(req({ host }));
    assert.equal(refusal?.status, 400, host);
    assert.match(refusal!.reason, /is not a host name or address/);
  }
});

Deno.test("hostOfHeader() reads names and addresses with an optional port", () => {
  assert.equal(hostOfHeader("LocalHost:8766"), "localhost");
  assert.equal(hostOfHeader("[::1]:80"), "::1");
  assert.equal(hostOfHeader("my_service"), "my_service");
  assert.equal(hostOfHeader("example.com."), "example.com");
  assert.equal(hostOfHeader("example.com/x"), undefined);
});

Deno.test("remoteExposure() refuses a non-loopback bind without auth unless it is declared", () => {
  const mcp = (mode: string, allow = false) => ({
    auth: { mode },
    allow_unauthenticated_remote: allow,
  });
  assert.equal(remoteExposure("127.0.0.1", mcp("none")), undefined);
  assert.equal(remoteExposure("::1", mcp("none")), undefined);
  assert.equal(remoteExposure("0.0.0.0", mcp("bearer")), undefined);
  assert.equal(remoteExposure("0.0.0.0", mcp("none"))?.level, "error");
  assert.match(remoteExposure("gw.internal", mcp("none"))!.message, /^host 'gw.internal' accepts/);
  assert.equal(remoteExposure("0.0.0.0", mcp("none", true))?.level, "warn");
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
