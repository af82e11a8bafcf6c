/**
 * The interop matrix's observers, shared by the matrix without the gateway
 * (`tests/fixtures/era_interop_test.ts`) and through it (`tests/e2e/era_gateway_test.ts`): each
 * client kind (SDK v2 pinned to 2026-07-28, `auto` and legacy; SDK v1; the Python SDK 2.x
 * `Client(url)`) lists, calls, streams progress, elicits over two rounds, samples, reads, gets a
 * prompt and completes against the toolset of `tests/fixtures/era_tools.ts`, and reports what it
 * saw in one shape equal across SDKs ({@linkcode Observed}).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ClientCapabilities } from "@modelcontextprotocol/client";
import { connectClient } from "./client.ts";
import {
  connectEraClient,
  elicitReply,
  type EraClientMode,
  type EraTarget,
  MODERN_PROTOCOL_VERSION,
  sampleReply,
} from "./era_client.ts";
import {
  type PyPlan,
  type PyRun,
  type PythonMcp,
  requirePython,
  runPyClient,
} from "./py_client.ts";
import { CreateMessageRequestSchema, ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from "./sdk.ts";
import { ERA_CACHE_HINTS, ERA_TOOL_NAMES, README_TEXT, README_URI } from "../fixtures/era_tools.ts";

/** What one client saw of the toolset, in a form equal across SDKs. */
export interface Observed {
  version: string;
  tools: string[];
  /** `ttlMs/cacheScope` of tools/list and of resources/read, "none" without hints. */
  cache: [string, string];
  echo: string;
  progress: number[];
  elicit: string;
  sample: string;
  links: string[];
  readme: string;
  item: string;
  prompt: string;
  completions: [string[], string[]];
}

/** The calls every client makes, in the order it makes them. */
const ECHO = { name: "echo", arguments: { text: "hi" } };
const PROGRESS = { name: "progress", arguments: { steps: 3 } };
const ELICIT = { name: "elicit", arguments: { rounds: 2 } };
const SAMPLE = { name: "sample", arguments: { prompt: "sky" } };
const LINKS = { name: "links", arguments: {} };
const ITEM_URI = "era://items/2";
const GREET = { name: "greet", arguments: { name: "Grace" } };
const NAME_REF = { type: "ref/prompt", name: "greet" } as const;
const ID_REF = { type: "ref/resource", uri: "era://items/{id}" } as const;

const hint = (h: { ttlMs: number; cacheScope: string }) => `${h.ttlMs}/${h.cacheScope}`;
const NO_SERVER_REQUESTS = "per-request legacy serving cannot receive server-to-client requests";

/** What a client of `version` sees of an era fixture when everything works. */
export function expected(version: string): Observed {
  const modern = version === MODERN_PROTOCOL_VERSION;
  return {
    version,
    tools: [...ERA_TOOL_NAMES],
    cache: modern
      ? [hint(ERA_CACHE_HINTS["tools/list"]), hint(ERA_CACHE_HINTS["resources/read"])]
      : ["none", "none"],
    echo: "echo: hi",
    progress: [1, 2, 3],
    elicit: "hello user1, user2",
    sample: "sampled: reply to sky",
    links: ["resource_link", "resource"],
    readme: README_TEXT,
    item: "item 2",
    prompt: "Say hello to Grace.",
    completions: [["Ada", "Alan"], ["1", "2", "3"]],
  };
}

/** A 2025 client of a stateless dual-era server: everything but server→client requests. */
export function statelessLegacy(): Observed {
  return {
    ...expected(LATEST_PROTOCOL_VERSION),
    elicit: `Cannot request input 'name1' (elicitation/create): the client on this 2025-era ` +
      `connection did not declare the required capability (no client capabilities are ` +
      `available on this connection — ${NO_SERVER_REQUESTS})`,
    sample: `Cannot request input 'reply' (sampling/createMessage): the client on this 2025-era ` +
      `connection did not declare the required capability (no client capabilities are ` +
      `available on this connection — ${NO_SERVER_REQUESTS})`,
  };
}

/** The loose shape both SDK clients' results have, as far as the observers read them. */
interface ContentResult {
  content?: Array<{ type: string; text?: string }>;
  ttlMs?: number;
  cacheScope?: string;
}
interface SdkClient {
  listTools(): Promise<ContentResult & { tools: Array<{ name: string }> }>;
  readResource(params: { uri: string }): Promise<ContentResult & { contents: unknown[] }>;
  getPrompt(params: typeof GREET): Promise<{ messages: Array<{ content: unknown }> }>;
  complete(params: {
    ref: typeof NAME_REF | typeof ID_REF;
    argument: { name: string; value: string };
  }): Promise<{ completion: { values: string[] } }>;
}
type Call = (
  params: { name: string; arguments: Record<string, unknown> },
  onprogress?: (progress: { progress: number }) => void,
) => Promise<ContentResult>;

async function observeSdk(client: SdkClient, call: Call, version: string): Promise<Observed> {
  const tools = await client.listTools();
  const echo = await call(ECHO);
  const progress: number[] = [];
  await call(PROGRESS, (p) => progress.push(p.progress));
  const [elicit, sample, links] = [await call(ELICIT), await call(SAMPLE), await call(LINKS)];
  const readme = await client.readResource({ uri: README_URI });
  const item = await client.readResource({ uri: ITEM_URI });
  const prompt = await client.getPrompt(GREET);
  const names = await client.complete({ ref: NAME_REF, argument: { name: "name", value: "A" } });
  const ids = await client.complete({ ref: ID_REF, argument: { name: "id", value: "" } });
  return {
    version,
    tools: tools.tools.map((tool) => tool.name).sort(),
    cache: [cacheOf(tools), cacheOf(readme)],
    echo: firstText(echo),
    progress,
    elicit: firstText(elicit),
    sample: firstText(sample),
    links: (links.content ?? []).map((item) => item.type),
    readme: textOfContents(readme.contents),
    item: textOfContents(item.contents),
    prompt: textOf(prompt.messages[0]?.content),
    completions: [names.completion.values, ids.completion.values],
  };
}

function cacheOf(result: ContentResult): string {
  return result.ttlMs === undefined ? "none" : `${result.ttlMs}/${result.cacheScope}`;
}

function firstText(result: ContentResult | undefined): string {
  return textOf(result?.content?.[0]);
}

function textOf(content: unknown): string {
  const text = (content as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text : JSON.stringify(content);
}

function textOfContents(contents: unknown[]): string {
  return textOf(contents[0]);
}

/** Runs the matrix's steps with an SDK v2 client in `mode`. */
export async function observeV2(target: EraTarget, mode: EraClientMode): Promise<Observed> {
  await using client = await connectEraClient(target, mode);
  const call: Call = async (params, onprogress) => {
    if (onprogress === undefined) return await client.callTool(params);
    const { result, progress } = await client.callToolWithProgress(params);
    for (const value of progress) onprogress({ progress: value });
    return result;
  };
  return await observeSdk(client, call, client.getNegotiatedProtocolVersion() ?? "?");
}

/** Runs the matrix's steps with an SDK v1 client declaring elicitation and sampling. */
export async function observeV1(url: string): Promise<Observed> {
  const capabilities: ClientCapabilities = { elicitation: {}, sampling: {} };
  await using client = await connectClient(url, { capabilities });
  client.setRequestHandler(ElicitRequestSchema, (request) => elicitReply(request as never));
  client.setRequestHandler(CreateMessageRequestSchema, (request) => sampleReply(request as never));
  const call: Call = (params, onprogress) =>
    client.callTool(params, undefined, onprogress === undefined ? {} : { onprogress }) as Promise<
      ContentResult
    >;
  // The v1 SDK does not expose the negotiated version; it always offers its latest.
  return await observeSdk(client, call, LATEST_PROTOCOL_VERSION);
}

const PY_PLAN: PyPlan = {
  steps: [
    { op: "list_tools" },
    { op: "call_tool", ...ECHO },
    { op: "call_tool", ...PROGRESS },
    { op: "call_tool", ...ELICIT },
    { op: "call_tool", ...SAMPLE },
    { op: "call_tool", ...LINKS },
    { op: "read_resource", uri: README_URI },
    { op: "read_resource", uri: ITEM_URI },
    { op: "get_prompt", ...GREET },
    { op: "complete", ref: NAME_REF, argument: { name: "name", value: "A" } },
    { op: "complete", ref: ID_REF, argument: { name: "id", value: "" } },
  ],
};

/** Runs the Python client against every URL in one process; one promise per URL. */
export function observePython(python: PythonMcp, urls: readonly string[]): Promise<Observed>[] {
  const runs = runPyClient(requirePython(python), urls, PY_PLAN);
  return urls.map((_, index) => runs.then((all) => fromPython(all[index]!)));
}

function fromPython(run: PyRun): Observed {
  const { protocolVersion, results } = run;
  if (protocolVersion === undefined || results === undefined) throw new Error(run.error);
  const step = (index: number) => {
    const outcome = results[index];
    if (outcome?.result === undefined) throw new Error(`step ${index}: ${outcome?.error}`);
    return outcome.result as ContentResult & Record<string, never>;
  };
  // The Python models default ttlMs/cacheScope on 2025 results too: only 2026 ones came on the wire.
  const cache = (result: ContentResult) =>
    protocolVersion === MODERN_PROTOCOL_VERSION ? cacheOf(result) : "none";
  const values = (index: number) =>
    (step(index) as { completion?: { values: string[] } }).completion?.values ?? [];
  return {
    version: protocolVersion,
    tools: (step(0) as { tools?: Array<{ name: string }> }).tools?.map((t) => t.name).sort() ?? [],
    cache: [cache(step(0)), cache(step(6))],
    echo: firstText(step(1)),
    progress: results[2]?.progress ?? [],
    elicit: firstText(step(3)),
    sample: firstText(step(4)),
    links: (step(5).content ?? []).map((item) => item.type),
    readme: textOfContents((step(6) as { contents?: unknown[] }).contents ?? []),
    item: textOfContents((step(7) as { contents?: unknown[] }).contents ?? []),
    prompt: textOf((step(8) as { messages?: Array<{ content: unknown }> }).messages?.[0]?.content),
    completions: [values(9), values(10)],
  };
}

/** The client kinds of the matrix. */
export type ClientKind = EraClientMode | "v1" | "py";

/** The client kinds, in the order the matrix lists them, with their labels. */
export const CLIENT_LABELS: Readonly<Record<ClientKind, string>> = {
  modern: "SDK v2 pinned 2026-07-28",
  auto: "SDK v2 auto",
  legacy: "SDK v2 legacy",
  v1: "SDK v1",
  py: "Python SDK 2.x Client(url)",
};

/** Observes one HTTP URL with one TypeScript client kind (Python runs in a batch: {@linkcode observePython}). */
export function observeTs(kind: Exclude<ClientKind, "py">, url: string): Promise<Observed> {
  return kind === "v1" ? observeV1(url) : observeV2(url, kind);
}

/** How one client's run ended. */
export type Outcome = { observed: Observed } | { error: unknown };

/** Turns a run into its outcome, so one failure does not hide the others. */
export function settle(run: Promise<Observed>): Promise<Outcome> {
  return run.then((observed) => ({ observed }), (error: unknown) => ({ error }));
}

/** Asserts an outcome: equal to `want`, or an error matching it. */
export function verify(outcome: Outcome, want: Observed | RegExp): void {
  if (want instanceof RegExp) {
    assert.ok("error" in outcome, `connected, though it should fail with ${want}`);
    assert.match(String(outcome.error), want);
  } else if ("error" in outcome) {
    throw outcome.error;
  } else {
    assert.deepEqual(outcome.observed, want);
  }
}
