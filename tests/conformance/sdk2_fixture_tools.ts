/**
 * The tools of the SDK v2 conformance fixture that both suites call: the content, logging,
 * progress and elicitation/sampling tools of the 2025 suite (`@modelcontextprotocol/conformance`
 * 0.1.16, `research/spec-conformance.md` §3.6), which the 2026-07-28 requirement set of
 * 0.2.0-alpha.12 calls too. Payloads are shared with the SDK v1 fixture (`fixture_tools.ts`).
 *
 * Elicitation and sampling are written once, as MRTR (`inputRequired`): a 2026 client gets
 * `input_required` and retries; on a 2025 session the SDK's legacy shim sends the real
 * `elicitation/create` / `sampling/createMessage` and re-enters the tool.
 *
 * @module
 */

import { z } from "zod";
import {
  type CallToolResult,
  fromJsonSchema,
  inputRequired,
  inputResponse,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { delay } from "../../src/upstream/clock.ts";
import {
  ELICITATION_FIELDS,
  embeddedResource,
  JSON_SCHEMA_2020_12,
  multipleContent,
  PNG_BASE64,
  SEP1034_FIELDS,
  SEP1330_FIELDS,
  SIMPLE_TEXT,
  WAV_BASE64,
} from "./fixture_tools.ts";

const STEP_MS = 50;
/** How long `test_reconnection` waits for the client to come back before it answers anyway. */
const RESUME_TIMEOUT_MS = 5_000;

/** What the tools need from the serving side. */
export interface Sdk2ToolHooks {
  /**
   * Resolves `true` once the client resumed a closed SSE stream; only 2025 sessions with an
   * event store have it (elsewhere `test_reconnection` answers on the open stream).
   */
  waitForResume?: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>;
}

/** Registers the tools of the 2025 suite (and the content tools the 2026 set calls too). */
export function registerSuiteTools(server: McpServer, hooks: Sdk2ToolHooks): void {
  const tool = (name: string, description: string, run: (ctx: ServerContext) => Result) =>
    server.registerTool(name, { description }, run);
  tool("test_simple_text", "Returns a text content item.", () => text(SIMPLE_TEXT));
  tool("test_image_content", "Returns a 1x1 PNG image content item.", () => ({
    content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }],
  }));
  tool("test_audio_content", "Returns a tiny WAV audio content item.", () => ({
    content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }],
  }));
  tool("test_embedded_resource", "Returns an embedded text resource.", () => ({
    content: [embeddedResource()],
  }));
  tool(
    "test_multiple_content_types",
    "Returns text, image and embedded resource content items.",
    () => ({ content: multipleContent() }),
  );
  tool("test_error_handling", "Always fails with a tool error (isError: true).", () => ({
    ...text("This tool intentionally returns an error for testing"),
    isError: true,
  }));
  tool(
    "test_tool_with_logging",
    "Logs three info messages, 50 ms apart (sent only at the level the client asked for).",
    async (ctx) => {
      await logThree(ctx);
      return text("Tool with logging executed successfully");
    },
  );
  tool(
    "test_tool_with_progress",
    "Reports progress 0, 50 and 100 of 100 when the call has a progress token.",
    reportProgress,
  );
  registerInteractiveTools(server);
  tool(
    "test_reconnection",
    "Closes its SSE stream mid-call and answers after the client resumed it.",
    (ctx) => reconnect(ctx, hooks),
  );
  server.registerTool("json_schema_2020_12_tool", {
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: fromJsonSchema(JSON_SCHEMA_2020_12),
  }, (args) => text(`Received: ${JSON.stringify(args)}`));
}

type Result = CallToolResult | ReturnType<typeof inputRequired> | Promise<CallToolResult>;

function registerInteractiveTools(server: McpServer): void {
  server.registerTool("test_sampling", {
    description: "Asks the client to sample an LLM reply to `prompt` and returns its text.",
    inputSchema: z.object({ prompt: z.string().describe("The prompt to send to the LLM") }),
  }, ({ prompt }, ctx) => {
    const reply = inputResponse(ctx.mcpReq.inputResponses, "reply");
    if (reply.kind === "sampling") return text(`LLM response: ${samplingText(reply.result)}`);
    return inputRequired({
      inputRequests: {
        reply: inputRequired.createMessage({
          messages: [{ role: "user", content: { type: "text", text: prompt } }],
          maxTokens: 100,
        }),
      },
    });
  });
  server.registerTool("test_elicitation", {
    description: "Asks the client for a username and email with `message` as the prompt.",
    inputSchema: z.object({ message: z.string().describe("The message to show the user") }),
  }, ({ message }, ctx) => elicit(ctx, message, ELICITATION_FIELDS, ["username", "email"]));
  server.registerTool(
    "test_elicitation_sep1034_defaults",
    {
      description: "Elicits a form whose five primitive fields carry defaults (SEP-1034).",
    },
    (ctx) => elicit(ctx, "Please review and update the form fields with defaults", SEP1034_FIELDS),
  );
  server.registerTool("test_elicitation_sep1330_enums", {
    description: "Elicits a form with the five enum variants of SEP-1330.",
  }, (ctx) => elicit(ctx, "Please select options from the enum fields", SEP1330_FIELDS));
}

/** One form elicitation under the key `response`; the retry reports what came back. */
function elicit(
  ctx: ServerContext,
  message: string,
  properties: Record<string, object>,
  required: string[] = [],
) {
  const answer = inputResponse(ctx.mcpReq.inputResponses, "response");
  if (answer.kind === "elicit") {
    return text(
      `Elicitation completed: action=${answer.action}, content=${
        JSON.stringify(answer.content ?? {})
      }`,
    );
  }
  return inputRequired({
    inputRequests: {
      response: inputRequired.elicit({
        message,
        requestedSchema: { type: "object", properties, required } as never,
      }),
    },
  });
}

/** The text of a sampling result (its first text block), or its content as JSON. */
export function samplingText(result: { content: unknown }): string {
  const content = Array.isArray(result.content) ? result.content[0] : result.content;
  const block = content as { type?: string; text?: string } | undefined;
  return block?.type === "text" && block.text !== undefined ? block.text : JSON.stringify(content);
}

/** Three info log messages, 50 ms apart; the SDK drops those below the client's level. */
export async function logThree(ctx: ServerContext): Promise<void> {
  const steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
  for (const [index, data] of steps.entries()) {
    if (index > 0) await delay(STEP_MS, ctx.mcpReq.signal);
    await ctx.mcpReq.log("info", data, "conformance");
  }
}

async function reportProgress(ctx: ServerContext): Promise<CallToolResult> {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  for (const [index, progress] of [0, 50, 100].entries()) {
    if (index > 0) await delay(STEP_MS, ctx.mcpReq.signal);
    if (progressToken === undefined) continue;
    await ctx.mcpReq.notify({
      method: "notifications/progress",
      params: { progressToken, progress, total: 100, message: `Completed step ${index + 1}` },
    });
  }
  // The last notification gets its own read before the result (see PROGRESS_STEP_MS in
  // tests/fixtures/era_tools.ts for why SDK clients need that).
  await delay(STEP_MS, ctx.mcpReq.signal);
  return text(`Tool with progress executed successfully (token ${String(progressToken)})`);
}

async function reconnect(ctx: ServerContext, hooks: Sdk2ToolHooks): Promise<CallToolResult> {
  const closeSSE = ctx.http?.closeSSE;
  if (closeSSE === undefined || hooks.waitForResume === undefined) {
    return text("Reconnection test completed (this stream cannot be resumed, so it stayed open)");
  }
  const resumed = hooks.waitForResume(RESUME_TIMEOUT_MS, ctx.mcpReq.signal);
  closeSSE();
  return text(
    await resumed
      ? "Reconnection test completed successfully"
      : "Reconnection test completed (no resume seen; the result waits in the event store)",
  );
}

/** A result with one text content item. */
export function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}
