/**
 * The proof a replica puts on a forwarded request, checked by the receiving replica: valid only
 * for this body, from a replica holding the cluster's key, and for 30 seconds.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { Forwarder } from "../../src/state/forwarding.ts";
import type { Cluster } from "../../src/state/cluster.ts";
import type { UpstreamDirectory } from "../../src/core/context.ts";
import { silentLogger } from "../../src/log.ts";

const KEY = new Uint8Array(32).fill(7);

/** A cluster whose forwarding key is {@link KEY}; nothing else of it is used. */
const cluster = {
  node: "n1",
  onBus() {},
  onKeys(handler: (keys: { forward: Uint8Array; requestState: Uint8Array }) => void) {
    handler({ forward: KEY, requestState: KEY });
  },
} as unknown as Cluster;

const forwarder = new Forwarder({
  cluster,
  upstreams: { supervisors: () => [] } as unknown as UpstreamDirectory,
  ownerTtlMs: 60_000,
  nodeOf: () => undefined,
  log: silentLogger,
});

/** A proof as a replica writes it: `v1.<ms>.<node>.<principal, base64url>.<HMAC>`. */
function proof(at: string, text: string, principal = "identity:app", key = KEY): string {
  const who = Buffer.from(principal).toString("base64url");
  const body = createHash("sha256").update(text).digest("base64url");
  const mac = createHmac("sha256", key).update(`${at}.n2.${who}.${body}`).digest("base64url");
  return `v1.${at}.n2.${who}.${mac}`;
}

Deno.test("Forwarder.verify() takes a fresh proof of this body under the cluster's key, and nothing else", () => {
  const text = '{"jsonrpc":"2.0","id":1,"method":"tools/call"}';
  const now = String(Date.now());
  assert.deepEqual(forwarder.verify(proof(now, text), text), { principal: "identity:app" });
  assert.equal(forwarder.verify(proof(now, text), `${text} `), undefined, "another body");
  assert.equal(forwarder.verify(proof(now, text, "x", new Uint8Array(32)), text), undefined);
  assert.equal(forwarder.verify(proof(String(Date.now() - 31_000), text), text), undefined);
  for (const at of ["x", "", "Infinity", "1e400"]) {
    assert.equal(forwarder.verify(proof(at, text), text), undefined, `time '${at}'`);
  }
});
