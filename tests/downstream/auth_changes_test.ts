import assert from "node:assert/strict";
import type { DownstreamAuth } from "../../src/config/mod.ts";
import { unchangedIdentities } from "../../src/downstream/auth_changes.ts";

const scope = (allow: string[]) => ({ allow, deny: [] });
const client = (name: string, key: string, tools = ["*"], admin = false) => ({
  name,
  admin,
  keySha256: key.repeat(64),
  tools: scope(tools),
  prompts: scope(["*"]),
  resources: scope(["*"]),
});
const keys = (...clients: ReturnType<typeof client>[]): DownstreamAuth => ({
  mode: "keys",
  clients,
});

Deno.test("unchangedIdentities() keeps sessions of identities a reload left exactly as they were", () => {
  const before = keys(
    client("ci", "a"),
    client("bot", "b"),
    client("ops", "c"),
    client("old", "d"),
  );
  const after = keys(
    client("ci", "a"),
    client("bot", "b", ["x__*"]),
    client("ops", "c", ["*"], true),
  );
  const same = unchangedIdentities(before, after);
  assert.equal(same({ name: "ci" }), true);
  assert.equal(same({ name: "bot" }), false, "narrowed scopes");
  assert.equal(same({ name: "ops" }), false, "became an admin");
  assert.equal(same({ name: "old" }), false, "removed");
  assert.equal(same(undefined), false, "no anonymous sessions in keys mode");
  const rotated = unchangedIdentities(before, keys(client("ci", "e")));
  assert.equal(rotated({ name: "ci" }), false, "another key");
});

Deno.test("unchangedIdentities() ends sessions across a change of auth mode or bearer token", () => {
  const none: DownstreamAuth = { mode: "none" };
  const bearer = (token: string): DownstreamAuth => ({ mode: "bearer", token });
  assert.equal(unchangedIdentities(none, none)(undefined), true);
  assert.equal(unchangedIdentities(none, bearer("t"))(undefined), false);
  assert.equal(unchangedIdentities(bearer("t"), bearer("t"))({ name: "bearer" }), true);
  assert.equal(unchangedIdentities(bearer("t"), bearer("u"))({ name: "bearer" }), false);
  assert.equal(unchangedIdentities(bearer("t"), none)({ name: "bearer" }), false);
});
