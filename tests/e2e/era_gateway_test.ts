// The interop matrix through the gateway: every client kind (SDK v2 pinned to 2026-07-28, `auto`
// and legacy; SDK v1; the Python SDK 2.x `Client(url)`) against every SDK v2 upstream kind
// (era_server.ts over HTTP: modern-only, dual stateless, dual sessionful, legacy-only; over
// stdio: modern-only, dual, legacy), one gateway per upstream with `namespacing: never` so names
// stay verbatim. Through the gateway every pair works, each client in its own era: a 2026-07-28
// client gets 2026-07-28 and the MRTR bridge where the upstream is legacy, a 2025 client gets
// 2025-11-25 and real server→client requests where the upstream is modern.
// Python steps need the venv of tests/_support/py_client.ts (ignored without it unless CI is set).

import assert from "node:assert/strict";
import { MODERN_PROTOCOL_VERSION } from "../_support/era_client.ts";
import {
  CLIENT_LABELS,
  type ClientKind,
  expected,
  type Observed,
  observePython,
  observeTs,
  type Outcome,
  settle,
  verify,
} from "../_support/era_matrix.ts";
import { type RunningGateway, startGateway, upstream } from "../_support/gateway.ts";
import { denoUpstream } from "../_support/procs.ts";
import { pythonMcp } from "../_support/py_client.ts";
import { LATEST_PROTOCOL_VERSION } from "../_support/sdk.ts";
import { waitFor } from "../_support/wait.ts";
import { type EraFixture, startEraFixture } from "../fixtures/era_server.ts";

const python = await pythonMcp();
const ERA_SERVER = new URL("../fixtures/era_server.ts", import.meta.url).pathname;

/** One upstream behind its own gateway: how it is reached and which era the gateway speaks. */
interface UpstreamKind {
  label: string;
  transport: "http" | "stdio";
  kind: "modern" | "dual" | "dual-sessionful" | "legacy";
  /** The era the gateway should find by probing (`era: auto`). */
  era: "modern" | "legacy";
}

const UPSTREAMS: readonly UpstreamKind[] = [
  { label: "HTTP modern-only", transport: "http", kind: "modern", era: "modern" },
  { label: "HTTP dual stateless", transport: "http", kind: "dual", era: "modern" },
  { label: "HTTP dual sessionful", transport: "http", kind: "dual-sessionful", era: "modern" },
  { label: "HTTP legacy-only", transport: "http", kind: "legacy", era: "legacy" },
  { label: "stdio modern-only", transport: "stdio", kind: "modern", era: "modern" },
  { label: "stdio dual", transport: "stdio", kind: "dual", era: "modern" },
  { label: "stdio legacy", transport: "stdio", kind: "legacy", era: "legacy" },
];

const MODERN_CLIENTS: ReadonlySet<ClientKind> = new Set(["modern", "auto", "py"]);

/** What `client` sees through the gateway (caching hints are checked in era_wire_test.ts). */
function wanted(client: ClientKind): Observed {
  return { ...expected(clientVersion(client)), cache: ["-", "-"] };
}

function clientVersion(client: ClientKind): string {
  return MODERN_CLIENTS.has(client) ? MODERN_PROTOCOL_VERSION : LATEST_PROTOCOL_VERSION;
}

/** The gateway config's `servers` entry of an upstream. */
function serverEntry(up: UpstreamKind, fixture: EraFixture | undefined): string {
  if (fixture) return upstream("up", fixture.url);
  return denoUpstream("up", ERA_SERVER, ["--kind", up.kind, "--transport", "stdio"]);
}

interface Front {
  up: UpstreamKind;
  fixture: EraFixture | undefined;
  gw: RunningGateway;
}

async function startFront(up: UpstreamKind): Promise<Front> {
  const fixture = up.transport === "http" ? await startEraFixture(up.kind) : undefined;
  const gw = await startGateway(`namespacing: never\nservers:\n${serverEntry(up, fixture)}`);
  await waitFor(
    () => gw.gateway.health().status === "ok" && gw.gateway.catalog().tools.length > 0,
    `${up.label} connected`,
    { timeoutMs: 15_000 },
  );
  return { up, fixture, gw };
}

async function closeFront(front: Front): Promise<void> {
  await front.gw.close();
  await front.fixture?.close();
}

/**
 * The TypeScript clients one after another on each gateway (a shared stdio upstream cannot tell
 * two clients' server→client requests apart), every gateway at once; then Python on all of them
 * in one process.
 */
function observeEverything(fronts: readonly Front[]): Map<ClientKind, Promise<Outcome>[]> {
  const ts = ["modern", "auto", "legacy", "v1"] as const;
  const perFront = fronts.map(async (front) => {
    const outcomes: Outcome[] = [];
    for (const client of ts) outcomes.push(await settle(observeTs(client, front.gw.url)));
    return outcomes;
  });
  const outcomes = new Map<ClientKind, Promise<Outcome>[]>(
    ts.map((client, c) => [client, perFront.map((run) => run.then((all) => all[c]!))]),
  );
  if (!python.ignore) {
    const urls = fronts.map((front) => front.gw.url);
    const pyRuns = Promise.all(perFront).then(() =>
      Promise.all(observePython(python, urls).map(settle))
    );
    outcomes.set("py", urls.map((_, index) => pyRuns.then((all) => all[index]!)));
  }
  return outcomes;
}

function verifyWorking(outcome: Outcome, client: ClientKind): void {
  if ("error" in outcome) throw outcome.error;
  verify({ observed: { ...outcome.observed, cache: ["-", "-"] } }, wanted(client));
}

Deno.test("the gateway serves every client kind in its own era in front of every upstream kind", async (t) => {
  const fronts = await Promise.all(UPSTREAMS.map(startFront));
  try {
    const outcomes = observeEverything(fronts);
    for (const [index, front] of fronts.entries()) {
      const { up } = front;
      await t.step(`${up.label} upstream`, async (t) => {
        await t.step(`/health shows era ${up.era}`, () => {
          const [server] = front.gw.gateway.health().servers;
          assert.equal(server?.era, up.era);
          assert.equal(
            server?.protocol_version,
            up.era === "modern" ? MODERN_PROTOCOL_VERSION : LATEST_PROTOCOL_VERSION,
          );
        });
        for (const client of Object.keys(CLIENT_LABELS) as ClientKind[]) {
          const runs = outcomes.get(client);
          await t.step({
            name: `${CLIENT_LABELS[client]} → ${clientVersion(client)}`,
            ignore: runs === undefined,
            fn: async () => verifyWorking(await runs![index]!, client),
          });
        }
      });
    }
  } finally {
    await Promise.all(fronts.map(closeFront));
  }
});
