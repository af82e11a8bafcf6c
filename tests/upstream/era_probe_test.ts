import assert from "node:assert/strict";
import { GatewayError, McpError } from "../../src/mcp/errors.ts";
import { judgeDiscover, judgeSibling, probeFailure } from "../../src/upstream/era_probe.ts";

const httpError = (status: number) =>
  new GatewayError("upstream_http_error", "s", `Upstream 's' answered HTTP ${status}`, { status });

Deno.test("judgeDiscover() takes a discover result that shares 2026-07-28 as modern", () => {
  const discover = { supportedVersions: ["2026-07-28"], capabilities: { tools: {} } };
  assert.deepEqual(judgeDiscover({ result: discover }), {
    era: "modern",
    version: "2026-07-28",
    discover,
  });
});

Deno.test("judgeDiscover() falls back to legacy on what legacy servers answer", () => {
  for (const status of [400, 404, 405, 500, 502, 202]) {
    const verdict = judgeDiscover({ error: httpError(status) });
    assert.equal(verdict.era, "legacy", String(status));
  }
  assert.equal(judgeDiscover({ error: new McpError(-32601, "Method not found") }).era, "legacy");
  assert.equal(judgeDiscover({ error: new McpError(-32600, "Bad Request") }).era, "legacy");
  const garbled = new GatewayError("upstream_protocol_error", "s", "not JSON");
  assert.equal(judgeDiscover({ error: garbled }).era, "legacy");
  assert.equal(judgeDiscover({ result: { tools: [] } }).era, "legacy");
});

Deno.test("judgeDiscover() never falls back on an auth refusal or a network failure", () => {
  for (const status of [401, 403]) {
    const verdict = judgeDiscover({ error: httpError(status) });
    assert.equal(verdict.era, "failed");
  }
  const unreachable = new GatewayError("upstream_unreachable", "s", "Cannot reach upstream 's'");
  assert.deepEqual(judgeDiscover({ error: unreachable }), { era: "failed", error: unreachable });
});

Deno.test("judgeDiscover() reads a -32022 list: legacy versions mean legacy, only unknown modern ones fail", () => {
  const refusal = (supported: string[]) =>
    new McpError(-32022, "Unsupported protocol version", { supported, requested: "2026-07-28" });
  assert.equal(judgeDiscover({ error: refusal(["2025-11-25", "2025-06-18"]) }).era, "legacy");
  assert.equal(judgeDiscover({ error: refusal(["2027-03-01", "2025-11-25"]) }).era, "legacy");
  const onlyNewer = judgeDiscover({ error: refusal(["2027-03-01"]) });
  assert.equal(onlyNewer.era, "failed");
  if (onlyNewer.era === "failed") assert.match(onlyNewer.error.message, /supports 2027-03-01/);
  assert.equal(judgeDiscover({ error: new McpError(-32020, "Header mismatch") }).era, "failed");
});

Deno.test("judgeSibling() takes anything but a start failure of a stdio sibling as legacy", () => {
  const silent = new GatewayError("upstream_timeout", "s", "Upstream 's' did not answer");
  assert.deepEqual(judgeSibling({ era: "failed", error: silent }), {
    era: "legacy",
    evidence: "it did not answer server/discover (Upstream 's' did not answer)",
  });
  const unstarted = new GatewayError("upstream_unreachable", "s", "Cannot reach upstream 's'");
  assert.deepEqual(judgeSibling({ era: "failed", error: unstarted }), {
    era: "failed",
    error: unstarted,
  });
  const modern = { era: "modern" as const, version: "2026-07-28", discover: {} };
  assert.equal(judgeSibling(modern), modern);
});

Deno.test("probeFailure() keeps a gateway error and names the upstream for any other", () => {
  const refused = httpError(401);
  assert.equal(probeFailure("s", refused), refused);
  const failure = probeFailure("s", new Error("it supports only 2027-01-01"));
  assert.ok(failure instanceof GatewayError);
  assert.equal(failure.code, "upstream_protocol_error");
  assert.equal(failure.message, "Cannot speak to upstream 's': it supports only 2027-01-01");
});
