/**
 * The tools and the prompt of the SDK v2 conformance fixture that only the 2026-07-28
 * requirement set of `@modelcontextprotocol/conformance@0.2.0-alpha.12` calls: the
 * `input-required-result-*` (MRTR, SEP-2322) scenarios' `test_input_required_result_*`, and the
 * diagnostic tools of `server-stateless` (SEP-2575). Each follows the "Server Implementation
 * Requirements" its scenario prints (keys, messages, schemas).
 *
 * `requestState` is sealed with the SDK's HMAC codec (`createRequestStateCodec`), one random key
 * per process, so `input-required-result-tampered-state` gets `-32602`.
 *
 * @module
 */

import { z } from "zod";
import {
  acceptedContent,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  type InputRequest,
  inputRequired,
  inputResponse,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { logThree, samplingText, text } from "./sdk2_fixture_tools.ts";

/** What the diagnostic tools trigger on the serving side. */
export interface MrtrToolHooks {
  /** Publishes `notifications/tools/list_changed` (listen streams and 2025 sessions). */
  toolsChanged(): void;
  /** Publishes `notifications/prompts/list_changed`. */
  promptsChanged(): void;
}

/** What the multi-round tools keep in `requestState` between rounds. */
interface FlowState {
  step: number;
  name?: string;
}

const codec = createRequestStateCodec<FlowState>({
  key: crypto.getRandomValues(new Uint8Array(32)),
  ttlSeconds: 600,
});

/** `ServerOptions.requestState` of the fixture: verifies (and decodes) every echoed state. */
export const REQUEST_STATE = { verify: codec.verify };

const NAME_FORM = {
  type: "object" as const,
  properties: { name: { type: "string" as const } },
  required: ["name"],
};
const askName = (message: string) => inputRequired.elicit({ message, requestedSchema: NAME_FORM });
const nameSchema = z.object({ name: z.string() });

/** Registers every tool and the prompt of this module. */
export function registerMrtrTools(server: McpServer, hooks: MrtrToolHooks): void {
  const tool = (name: string, description: string, run: (ctx: ServerContext) => unknown) =>
    server.registerTool(name, { description }, run as never);

  tool("test_input_required_result_elicitation", "Asks for a name, then greets it.", (ctx) => {
    const name = acceptedContent(ctx.mcpReq.inputResponses, "user_name", nameSchema)?.name;
    if (name !== undefined) return text(`Hello, ${name}!`);
    return inputRequired({ inputRequests: { user_name: askName("What is your name?") } });
  });
  tool("test_input_required_result_sampling", "Asks the client's model a question.", (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, "capital_question");
    if (answer.kind === "sampling") return text(`The model said: ${samplingText(answer.result)}`);
    return inputRequired({ inputRequests: { capital_question: capitalQuestion() } });
  });
  tool("test_input_required_result_list_roots", "Asks for the client's roots.", (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, "client_roots");
    if (answer.kind === "roots") {
      return text(`Client roots: ${answer.roots.map((root) => root.uri).join(", ")}`);
    }
    return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });
  tool("test_input_required_result_request_state", "Confirms, carrying requestState.", confirm);
  tool("test_input_required_result_tampered_state", "Confirms; tampered state fails.", confirm);
  tool("test_input_required_result_multiple_inputs", "Asks three things at once.", multiple);
  tool("test_input_required_result_multi_round", "Asks a name, then a color.", multiRound);
  tool("test_input_required_result_capabilities", "Asks only what the client declared.", ask);

  tool("test_missing_capability", "Needs sampling, which the client must declare.", (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, "sample");
    if (answer.kind === "sampling") return text(`The model said: ${samplingText(answer.result)}`);
    return inputRequired({ inputRequests: { sample: capitalQuestion() } });
  });
  tool(
    "test_streaming_elicitation",
    "Elicits in the call's result, never on the stream.",
    (ctx) => {
      const confirmed = acceptedContent(ctx.mcpReq.inputResponses, "confirm");
      if (confirmed !== undefined) return text("Streaming elicitation confirmed");
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({
            message: "Please confirm",
            requestedSchema: { type: "object", properties: { ok: { type: "boolean" } } },
          }),
        },
      });
    },
  );
  tool(
    "test_logging_tool",
    "Logs three messages, only at the level the request asked for.",
    async (ctx) => {
      await logThree(ctx as ServerContext);
      return text("Logging tool executed");
    },
  );
  tool("test_trigger_tool_change", "Announces that the tool list changed.", () => {
    hooks.toolsChanged();
    return text("Tool list change announced");
  });
  tool("test_trigger_prompt_change", "Announces that the prompt list changed.", () => {
    hooks.promptsChanged();
    return text("Prompt list change announced");
  });

  server.registerPrompt("test_input_required_result_prompt", {
    description: "A prompt that first asks the client for its context.",
  }, (ctx) => {
    const context = acceptedContent(ctx.mcpReq.inputResponses, "user_context")?.context;
    if (typeof context !== "string") {
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({
            message: "What context should the prompt use?",
            requestedSchema: {
              type: "object",
              properties: { context: { type: "string" } },
              required: ["context"],
            },
          }),
        },
      });
    }
    return {
      messages: [{ role: "user", content: { type: "text", text: `Use this context: ${context}` } }],
    };
  });
}

function capitalQuestion(): InputRequest {
  return inputRequired.createMessage({
    messages: [{ role: "user", content: { type: "text", text: "What is the capital of France?" } }],
    maxTokens: 100,
  });
}

async function confirm(ctx: ServerContext) {
  if (
    ctx.mcpReq.requestState<FlowState>()?.step === 1 &&
    inputResponse(ctx.mcpReq.inputResponses, "confirm").kind === "elicit"
  ) {
    return text("Confirmed: state-ok");
  }
  return inputRequired({
    inputRequests: {
      confirm: inputRequired.elicit({
        message: "Please confirm",
        requestedSchema: {
          type: "object",
          properties: { ok: { type: "boolean" } },
          required: ["ok"],
        },
      }),
    },
    requestState: await codec.mint({ step: 1 }),
  });
}

async function multiple(ctx: ServerContext) {
  const responses = ctx.mcpReq.inputResponses;
  const keys = ["user_name", "greeting", "client_roots"];
  if (keys.every((key) => inputResponse(responses, key).kind !== "missing")) {
    return text(`Received all of ${keys.join(", ")}`);
  }
  return inputRequired({
    inputRequests: {
      user_name: askName("What is your name?"),
      greeting: inputRequired.createMessage({
        messages: [{ role: "user", content: { type: "text", text: "Generate a greeting" } }],
        maxTokens: 50,
      }),
      client_roots: inputRequired.listRoots(),
    },
    requestState: await codec.mint({ step: 1 }),
  });
}

async function multiRound(ctx: ServerContext) {
  const state = ctx.mcpReq.requestState<FlowState>();
  const responses = ctx.mcpReq.inputResponses;
  const name = acceptedContent(responses, "step1", nameSchema)?.name;
  if (state?.step === 1 && name !== undefined) {
    return inputRequired({
      inputRequests: {
        step2: inputRequired.elicit({
          message: "Step 2: What is your favorite color?",
          requestedSchema: {
            type: "object",
            properties: { color: { type: "string" } },
            required: ["color"],
          },
        }),
      },
      requestState: await codec.mint({ step: 2, name }),
    });
  }
  const color = acceptedContent(responses, "step2")?.color;
  if (state?.step === 2 && typeof color === "string") {
    return text(`${state.name ?? "?"} likes ${color}`);
  }
  return inputRequired({
    inputRequests: { step1: askName("Step 1: What is your name?") },
    requestState: await codec.mint({ step: 1 }),
  });
}

/** Asks for sampling and elicitation, each only when the request's envelope declares it. */
function ask(ctx: ServerContext) {
  const responses = ctx.mcpReq.inputResponses;
  if (responses !== undefined && Object.keys(responses).length > 0) {
    return text(`Received ${Object.keys(responses).sort().join(", ")}`);
  }
  const declared = declaredCapabilities(ctx);
  const inputRequests: Record<string, InputRequest> = {};
  if (declared.sampling !== undefined) inputRequests.sample = capitalQuestion();
  if (declared.elicitation !== undefined) inputRequests.user_name = askName("What is your name?");
  if (Object.keys(inputRequests).length === 0) return text("The client declared neither");
  return inputRequired({ inputRequests });
}

function declaredCapabilities(ctx: ServerContext): ClientCapabilities {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  return (envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientCapabilities;
}
