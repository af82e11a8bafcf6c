/**
 * The tools of the conformance fixture, each named as the official suite calls it
 * (`research/spec-conformance.md` §3.5–3.6), as a table that `fixture_server.ts` serves with its
 * own `tools/list` and `tools/call` handlers, input schemas verbatim.
 *
 * @module
 */

import {
  type CallToolResult,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  McpError,
  type RequestHandlerExtra,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from "../_support/sdk.ts";
import { delay } from "../../src/upstream/clock.ts";

/** A 1×1 red RGBA PNG, base64. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/VscvDQAAAABJRU5ErkJggg==";
/** A WAV file of eight silent 8-bit mono samples at 8 kHz, base64. */
export const WAV_BASE64 =
  "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

/** The text `test_simple_text` returns. */
export const SIMPLE_TEXT = "This is a simple text response for testing.";

/** The form `test_elicitation` asks for (`message` is the tool's argument). */
export const ELICITATION_FIELDS = {
  username: { type: "string", description: "User's response" },
  email: { type: "string", description: "User's email address" },
};

/** The form of `test_elicitation_sep1034_defaults`: five primitive fields with defaults. */
export const SEP1034_FIELDS = {
  name: { type: "string", description: "User name", default: "John Doe" },
  age: { type: "integer", description: "User age", default: 30 },
  score: { type: "number", description: "User score", default: 95.5 },
  status: {
    type: "string",
    description: "User status",
    enum: ["active", "inactive", "pending"],
    default: "active",
  },
  verified: { type: "boolean", description: "Verification status", default: true },
};

/** The form of `test_elicitation_sep1330_enums`: the five enum variants of SEP-1330. */
export const SEP1330_FIELDS = {
  untitledSingle: {
    type: "string",
    description: "Untitled single-select",
    enum: ["option1", "option2", "option3"],
  },
  titledSingle: {
    type: "string",
    description: "Titled single-select",
    oneOf: [
      { const: "value1", title: "First Option" },
      { const: "value2", title: "Second Option" },
      { const: "value3", title: "Third Option" },
    ],
  },
  legacyEnum: {
    type: "string",
    description: "Legacy titled enum",
    enum: ["opt1", "opt2", "opt3"],
    enumNames: ["Option One", "Option Two", "Option Three"],
  },
  untitledMulti: {
    type: "array",
    description: "Untitled multi-select",
    items: { type: "string", enum: ["option1", "option2", "option3"] },
  },
  titledMulti: {
    type: "array",
    description: "Titled multi-select",
    items: {
      anyOf: [
        { const: "value1", title: "First Choice" },
        { const: "value2", title: "Second Choice" },
        { const: "value3", title: "Third Choice" },
      ],
    },
  },
};

/** The input schema of `json_schema_2020_12_tool`, which `tools/list` must show verbatim. */
export const JSON_SCHEMA_2020_12 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: {
    address: {
      type: "object",
      properties: { street: { type: "string" }, city: { type: "string" } },
    },
  },
  properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
  additionalProperties: false,
} as const;

/** The tools every session lists (`test_dynamic_tool` joins them once it appeared). */
export const CONFORMANCE_TOOLS = [
  "test_simple_text",
  "test_image_content",
  "test_audio_content",
  "test_embedded_resource",
  "test_multiple_content_types",
  "test_tool_with_logging",
  "test_tool_with_progress",
  "test_error_handling",
  "test_sampling",
  "test_elicitation",
  "test_elicitation_sep1034_defaults",
  "test_elicitation_sep1330_enums",
  "test_reconnection",
  "json_schema_2020_12_tool",
] as const;

/** The tool that appears some time after the fixture started, with `tools/list_changed`. */
export const DYNAMIC_TOOL = "test_dynamic_tool";

/** What the tools need from their session. */
export interface ToolContext {
  /** Whether a log message of `level` passes the session's `logging/setLevel`. */
  logs(level: string): boolean;
  /**
   * Resolves `true` once the client resumed a closed SSE stream; only Streamable HTTP sessions
   * with an event store can (without it `test_reconnection` answers on the open stream).
   */
  waitForResume?: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Args = Record<string, unknown>;

/** One tool: what `tools/list` shows and what `tools/call` runs. */
export interface ToolSpec {
  /** Listed description (the suite's `tools-list` wants one on every tool). */
  description: string;
  /** Listed input schema, exactly as it goes on the wire. */
  inputSchema: Tool["inputSchema"];
  /** Runs a call; throw `McpError` for a JSON-RPC error, return `isError` for a tool error. */
  run(args: Args, extra: Extra): CallToolResult | Promise<CallToolResult>;
}

const NO_ARGS: Tool["inputSchema"] = { type: "object", properties: {} };
const STEP_MS = 50;
/** How long `test_reconnection` waits for the client to come back before it answers anyway. */
const RESUME_TIMEOUT_MS = 5_000;

/** Every tool by name, `test_dynamic_tool` included (the server decides when to show it). */
export function conformanceTools(context: ToolContext): Map<string, ToolSpec> {
  const { logs } = context;
  return new Map<string, ToolSpec>([
    ["test_simple_text", {
      description: "Returns a text content item.",
      inputSchema: NO_ARGS,
      run: () => text(SIMPLE_TEXT),
    }],
    ["test_image_content", {
      description: "Returns a 1x1 PNG image content item.",
      inputSchema: NO_ARGS,
      run: () => ({ content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }] }),
    }],
    ["test_audio_content", {
      description: "Returns a tiny WAV audio content item.",
      inputSchema: NO_ARGS,
      run: () => ({ content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }] }),
    }],
    ["test_embedded_resource", {
      description: "Returns an embedded text resource.",
      inputSchema: NO_ARGS,
      run: () => ({ content: [embeddedResource()] }),
    }],
    ["test_multiple_content_types", {
      description: "Returns text, image and embedded resource content items.",
      inputSchema: NO_ARGS,
      run: () => ({ content: multipleContent() }),
    }],
    ["test_tool_with_logging", {
      description:
        "Sends three info log notifications, 50 ms apart, unless the level is above info.",
      inputSchema: NO_ARGS,
      run: async (_args, extra) => {
        const steps = [
          "Tool execution started",
          "Tool processing data",
          "Tool execution completed",
        ];
        for (const [index, data] of steps.entries()) {
          if (index > 0) await delay(STEP_MS, extra.signal);
          if (!logs("info")) continue;
          await extra.sendNotification({
            method: "notifications/message",
            params: { level: "info", logger: "conformance", data },
          });
        }
        return text("Tool with logging executed successfully");
      },
    }],
    ["test_tool_with_progress", {
      description: "Reports progress 0, 50 and 100 of 100 when the call has a progress token.",
      inputSchema: NO_ARGS,
      run: async (_args, extra) => {
        const progressToken = extra._meta?.progressToken;
        for (const [index, progress] of [0, 50, 100].entries()) {
          if (index > 0) await delay(STEP_MS, extra.signal);
          if (progressToken === undefined) continue;
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress, total: 100, message: `Completed step ${index + 1}` },
          });
        }
        return text(`Tool with progress executed successfully (token ${String(progressToken)})`);
      },
    }],
    ["test_error_handling", {
      description: "Always fails with a tool error (isError: true).",
      inputSchema: NO_ARGS,
      run: () => ({
        ...text("This tool intentionally returns an error for testing"),
        isError: true,
      }),
    }],
    ["test_sampling", {
      description: "Asks the client to sample an LLM reply to `prompt` and returns its text.",
      inputSchema: stringArgs({ prompt: "The prompt to send to the LLM" }),
      run: async (args, extra) => {
        const prompt = stringArg(args, "prompt");
        const result = await extra.sendRequest({
          method: "sampling/createMessage",
          params: {
            messages: [{ role: "user", content: { type: "text", text: prompt } }],
            maxTokens: 100,
          },
        }, CreateMessageResultSchema);
        const reply = result.content.type === "text"
          ? result.content.text
          : JSON.stringify(result.content);
        return text(`LLM response: ${reply}`);
      },
    }],
    ["test_elicitation", {
      description: "Asks the client for a username and email with `message` as the prompt.",
      inputSchema: stringArgs({ message: "The message to show the user" }),
      run: (args, extra) =>
        elicit(extra, stringArg(args, "message"), ELICITATION_FIELDS, ["username", "email"]),
    }],
    ["test_elicitation_sep1034_defaults", {
      description: "Elicits a form whose five primitive fields carry defaults (SEP-1034).",
      inputSchema: NO_ARGS,
      run: (_args, extra) =>
        elicit(extra, "Please review and update the form fields with defaults", SEP1034_FIELDS),
    }],
    ["test_elicitation_sep1330_enums", {
      description: "Elicits a form with the five enum variants of SEP-1330.",
      inputSchema: NO_ARGS,
      run: (_args, extra) =>
        elicit(extra, "Please select options from the enum fields", SEP1330_FIELDS),
    }],
    ["test_reconnection", {
      description: "Closes its SSE stream mid-call and answers after the client resumed it.",
      inputSchema: NO_ARGS,
      run: async (_args, extra) => {
        // Only offered for resumable streams: an event store and a 2025-11-25 client.
        if (extra.closeSSEStream === undefined || context.waitForResume === undefined) {
          return text(
            "Reconnection test completed (this stream cannot be resumed, so it stayed open)",
          );
        }
        const resumed = context.waitForResume(RESUME_TIMEOUT_MS, extra.signal);
        extra.closeSSEStream();
        return text(
          await resumed
            ? "Reconnection test completed successfully"
            : "Reconnection test completed (no resume seen; the result waits in the event store)",
        );
      },
    }],
    ["json_schema_2020_12_tool", {
      description: "Tool with JSON Schema 2020-12 features",
      inputSchema: JSON_SCHEMA_2020_12,
      run: (args) => text(`Received: ${JSON.stringify(args)}`),
    }],
    [DYNAMIC_TOOL, {
      description: "A tool that appears some time after the server started.",
      inputSchema: NO_ARGS,
      run: () => text("Dynamic tool executed successfully"),
    }],
  ]);
}

async function elicit(
  extra: Extra,
  message: string,
  properties: Record<string, Record<string, unknown>>,
  required: string[] = [],
): Promise<CallToolResult> {
  const result = await extra.sendRequest({
    method: "elicitation/create",
    params: { message, requestedSchema: { type: "object", properties, required } },
  } as ServerRequest, ElicitResultSchema);
  return text(
    `Elicitation completed: action=${result.action}, content=${
      JSON.stringify(result.content ?? {})
    }`,
  );
}

/** The content of `test_multiple_content_types`: text, image and an embedded resource. */
export function multipleContent(): CallToolResult["content"] {
  return [
    { type: "text", text: "Multiple content types test:" },
    { type: "image", data: PNG_BASE64, mimeType: "image/png" },
    embeddedResource(),
  ];
}

/** The embedded text resource `test_embedded_resource` returns. */
export function embeddedResource(): CallToolResult["content"][number] {
  return {
    type: "resource",
    resource: {
      uri: "test://embedded-resource",
      mimeType: "text/plain",
      text: "This is an embedded resource content.",
    },
  };
}

function stringArgs(descriptions: Record<string, string>): Tool["inputSchema"] {
  const properties = Object.fromEntries(
    Object.entries(descriptions).map((
      [name, description],
    ) => [name, { type: "string", description }]),
  );
  return { type: "object", properties, required: Object.keys(descriptions) };
}

function stringArg(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== "string") {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Cannot call tool: argument "${name}" must be a string`,
    );
  }
  return value;
}

function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}
