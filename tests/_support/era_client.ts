/**
 * SDK v2 clients (`@modelcontextprotocol/client@2.4.0`) in each era mode, for interop tests:
 * `modern` pins 2026-07-28 (`server/discover`, never falls back), `auto` probes and falls back
 * to `initialize`, `legacy` is the plain 2025 handshake. Each declares elicitation and sampling
 * and answers them (as real server→client requests on 2025, or by MRTR auto-fulfilment on
 * 2026) with the handlers of {@linkcode EraClientOptions}.
 *
 * @module
 */

import {
  type CallToolResult,
  Client,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

/** The protocol revision a `modern` client pins. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";

/** How a client picks its era (SDK `versionNegotiation.mode`). */
export type EraClientMode = "modern" | "auto" | "legacy";
/** Every {@linkcode EraClientMode}, in the order the interop matrix lists them. */
export const ERA_CLIENT_MODES: readonly EraClientMode[] = ["modern", "auto", "legacy"];

/** Where the client connects: a Streamable HTTP URL, or a command it spawns over stdio. */
export type EraTarget = string | { command: string; args: string[]; cwd?: string };

/** Options of {@linkcode connectEraClient}. */
export interface EraClientOptions {
  /** Answers `elicitation/create` (default: {@linkcode elicitReply}). */
  onElicit?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>;
  /** Answers `sampling/createMessage` (default: {@linkcode sampleReply}). */
  onSample?: (request: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>;
}

/** An SDK v2 client of {@linkcode connectEraClient}. */
export interface EraClient extends Client, AsyncDisposable {
  /**
   * Calls a tool with a progress token and resolves with its result and every progress value
   * the server sent for it. Unlike `callTool(…, { onprogress })` it loses none: SDK v2 (2.4.0)
   * drops the progress handler as soon as the result arrives, while notifications are handed out
   * a microtask later, so progress read in the same chunk as the result never reaches
   * `onprogress` (seen over stdio on a loaded machine).
   */
  callToolWithProgress(
    params: { name: string; arguments?: Record<string, unknown> },
  ): Promise<{ result: CallToolResult; progress: number[] }>;
}

/**
 * The default elicitation answer: accept with `{ name: "user<N>" }`, N being the round named by
 * the message ("Round N of M: ..."), so a test sees which rounds reached the client.
 */
export function elicitReply(request: ElicitRequest): ElicitResult {
  const round = /^Round (\d+)/.exec(request.params.message)?.[1] ?? "";
  return { action: "accept", content: { name: `user${round}` } };
}

/** The default sampling answer: the assistant says `reply to <first message's text>`. */
export function sampleReply(request: CreateMessageRequest): CreateMessageResult {
  const first = request.params.messages[0]?.content;
  const text = first !== undefined && !Array.isArray(first) && first.type === "text"
    ? first.text
    : "?";
  return { role: "assistant", content: { type: "text", text: `reply to ${text}` }, model: "test" };
}

/** Connects an SDK v2 `Client` named "era-client" in `mode`; dispose to close it. */
export async function connectEraClient(
  target: EraTarget,
  mode: EraClientMode,
  options: EraClientOptions = {},
): Promise<EraClient> {
  const client = new Client({ name: "era-client", version: "1.0.0" }, {
    capabilities: { elicitation: {}, sampling: {} },
    versionNegotiation: {
      mode: mode === "modern" ? { pin: MODERN_PROTOCOL_VERSION } : mode,
    },
  });
  client.setRequestHandler(
    "elicitation/create",
    (request) => (options.onElicit ?? elicitReply)(request),
  );
  client.setRequestHandler(
    "sampling/createMessage",
    (request) => (options.onSample ?? sampleReply)(request),
  );
  // Progress values by token; one short array per call, for the client's short life.
  const progress = new Map<string, number[]>();
  client.setNotificationHandler("notifications/progress", ({ params }) => {
    progress.get(String(params.progressToken))?.push(params.progress);
  });
  const callToolWithProgress: EraClient["callToolWithProgress"] = async (params) => {
    const token = `progress-${progress.size + 1}`;
    const seen: number[] = [];
    progress.set(token, seen);
    const result = await client.callTool({ ...params, _meta: { progressToken: token } });
    return { result: result as CallToolResult, progress: seen };
  };
  const transport = typeof target === "string"
    ? new StreamableHTTPClientTransport(new URL(target))
    : new StdioClientTransport({ ...target, stderr: "ignore" });
  await client.connect(transport);
  return Object.assign(client, {
    callToolWithProgress,
    [Symbol.asyncDispose]: () => client.close(),
  });
}
