/**
 * The bridge from a legacy upstream to a 2026-07-28 client (spec 2026-07-28: patterns/mrtr):
 * when the upstream asks something during a call (sampling, elicitation, roots), the gateway
 * holds that call open as a flow, answers the client `resultType: "input_required"` with the
 * questions and a sealed `requestState`, and on the client's retry hands the answers to the
 * waiting upstream requests and goes on. A flow that is not resumed in time is cancelled
 * upstream.
 */
import { McpError } from "../mcp/errors.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import type { Clock } from "../upstream/clock.ts";
import { InvalidRequestStateError, type RequestStateCodec } from "./request_state.ts";

/** A server→client request as the upstream sent it. */
export interface InputRequest {
  method: string;
  params?: JsonObject;
}

/** What a flow's call gets to ask its client with. */
export type Ask = (request: InputRequest, signal: AbortSignal) => Promise<JsonObject>;

/** Who is calling what, as bound into the state. */
export interface FlowCaller {
  principal: string;
  method: string;
  target: string;
  /** The client capabilities of this request's envelope: only these are asked. */
  capabilities: JsonObject;
}

/** Options of {@link InputFlows}. */
export interface InputFlowsOptions {
  codec: RequestStateCodec;
  clock: Clock;
  /** This replica's id, sealed into each state. */
  node: string;
  /** How long a flow waits for the client's retry. */
  ttlMs: number;
  /** Flows held at once, in all and per principal; past them an upstream's question is refused. */
  maxFlows: number;
  maxFlowsPerPrincipal: number;
}

interface Pending {
  request: InputRequest;
  resolve(result: JsonObject): void;
  reject(error: Error): void;
}

interface Flow {
  /** Its id in the states minted for it; empty until it is held. */
  id: string;
  caller: FlowCaller;
  stop: AbortController;
  outcome: Promise<JsonObject>;
  done: boolean;
  pending: Map<string, Pending>;
  nextKey: number;
  expires: number;
  /** Wakes the request waiting on this flow when the upstream asks something. */
  wake: (() => void) | undefined;
  /** Whether a request is waiting on the flow (one at a time). */
  busy: boolean;
  /** Set when the call cannot go on (the upstream needs a capability the client lacks). */
  failure: McpError | undefined;
}

/** The client capability each server→client request needs. */
const CAPABILITY_OF: Readonly<Record<string, string>> = {
  "sampling/createMessage": "sampling",
  "elicitation/create": "elicitation",
  "roots/list": "roots",
};

/** The flows this replica holds. */
export class InputFlows {
  readonly #options: InputFlowsOptions;
  readonly #flows = new Map<string, Flow>();
  readonly #byPrincipal = new Map<string, number>();

  constructor(options: InputFlowsOptions) {
    this.#options = options;
  }

  /** Number of flows held. */
  get size(): number {
    return this.#flows.size;
  }

  /**
   * Runs a call whose upstream may ask questions: resolves with its result, or with an
   * `input_required` result once it asks. `signal` is the client's request: when it goes away
   * while the call runs, the call is cancelled.
   */
  start(
    caller: FlowCaller,
    run: (ask: Ask, signal: AbortSignal) => Promise<JsonObject>,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    const flow: Flow = {
      // Most calls ask nothing: a flow gets its id only once it is held.
      id: "",
      caller,
      stop: new AbortController(),
      outcome: Promise.resolve({}),
      done: false,
      pending: new Map(),
      nextKey: 1,
      expires: this.#options.clock.now() + this.#options.ttlMs,
      wake: undefined,
      busy: false,
      failure: undefined,
    };
    flow.outcome = run(
      (request, askSignal) => this.#ask(flow, request, askSignal),
      flow.stop.signal,
    )
      .finally(() => {
        flow.done = true;
        flow.wake?.();
      });
    return this.#step(flow, signal);
  }

  /**
   * Resumes a flow from a client's retry: checks the state, hands each answer to the upstream
   * request waiting for it, and waits again for the result or the next questions.
   */
  resume(
    state: unknown,
    responses: unknown,
    caller: FlowCaller,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    let flow: Flow | undefined;
    try {
      const claims = this.#options.codec.verify(state, {
        principal: caller.principal,
        method: caller.method,
        target: caller.target,
        now: this.#options.clock.now(),
      });
      flow = this.#flows.get(claims.flow);
    } catch (error) {
      if (error instanceof InvalidRequestStateError) {
        return Promise.reject(new McpError(ErrorCode.InvalidParams, error.message));
      }
      throw error;
    }
    if (flow?.busy) {
      return Promise.reject(
        new McpError(
          ErrorCode.InvalidRequest,
          "Invalid Request: this requestState is in use by another request",
        ),
      );
    }
    if (!flow) {
      return Promise.reject(
        new McpError(
          ErrorCode.InvalidParams,
          "Invalid or expired requestState: the call it resumes has ended; send the request again without requestState",
        ),
      );
    }
    const answers = isJsonObject(responses) ? responses : {};
    for (const [key, pending] of flow.pending) {
      const answer = answers[key];
      if (!isJsonObject(answer)) continue;
      flow.pending.delete(key);
      pending.resolve(answer);
    }
    flow.caller = { ...flow.caller, capabilities: caller.capabilities };
    flow.expires = this.#options.clock.now() + this.#options.ttlMs;
    return this.#step(flow, signal);
  }

  /** Cancels flows whose client did not come back in time; returns how many. */
  sweep(): number {
    const now = this.#options.clock.now();
    let ended = 0;
    for (const flow of [...this.#flows.values()]) {
      if (flow.expires > now) continue;
      this.#end(flow, "the client did not retry in time");
      ended++;
    }
    return ended;
  }

  /** Cancels every flow (shutdown). */
  endAll(): void {
    for (const flow of [...this.#flows.values()]) this.#end(flow, "the gateway is shutting down");
  }

  /** Waits for the call's result or its next questions, whichever comes first. */
  async #step(flow: Flow, signal: AbortSignal): Promise<JsonObject> {
    const onAbort = () => this.#end(flow, "the client closed the request");
    signal.addEventListener("abort", onAbort, { once: true });
    flow.busy = true;
    try {
      while (!flow.done && !flow.failure && flow.pending.size === 0) {
        await new Promise<void>((resolve) => (flow.wake = resolve));
        flow.wake = undefined;
      }
      // Questions sent together (several requests in one upstream message) go out together.
      if (!flow.done) await new Promise((resolve) => setTimeout(resolve, 0));
    } finally {
      flow.busy = false;
      signal.removeEventListener("abort", onAbort);
    }
    if (flow.failure) {
      this.#end(flow, flow.failure.message);
      throw flow.failure;
    }
    if (flow.done) {
      this.#release(flow);
      return await flow.outcome;
    }
    const inputRequests: JsonObject = {};
    for (const [key, pending] of flow.pending) inputRequests[key] = forClient(pending.request);
    return {
      resultType: "input_required",
      inputRequests,
      requestState: this.#options.codec.mint({
        flow: flow.id,
        node: this.#options.node,
        principal: flow.caller.principal,
        method: flow.caller.method,
        target: flow.caller.target,
        expires: flow.expires,
      }),
    };
  }

  #ask(flow: Flow, request: InputRequest, signal: AbortSignal): Promise<JsonObject> {
    const capability = CAPABILITY_OF[request.method];
    if (capability === undefined) {
      return Promise.reject(
        new McpError(
          ErrorCode.MethodNotFound,
          `Method not found: '${request.method}' cannot be asked of a 2026-07-28 client`,
        ),
      );
    }
    if (flow.caller.capabilities[capability] === undefined) {
      // spec 2026-07-28: a request that needs an undeclared client capability fails with -32021.
      const error = new McpError(
        ErrorCode.MissingRequiredClientCapability,
        `Missing required client capability: '${capability}' (the upstream asked '${request.method}')`,
        { requiredCapabilities: { [capability]: {} } },
      );
      flow.failure ??= error;
      flow.wake?.();
      return Promise.reject(error);
    }
    if (!this.#flows.has(flow.id)) {
      if (!this.#hasRoom(flow.caller.principal)) {
        return Promise.reject(
          new McpError(
            ErrorCode.InternalError,
            "Cannot ask the client: too many calls are waiting for client input",
          ),
        );
      }
      // Held from its first question: calls that all ask at once cannot all pass the caps.
      this.#hold(flow);
    }
    const key = `input-${flow.nextKey++}`;
    const { promise, resolve, reject } = Promise.withResolvers<JsonObject>();
    flow.pending.set(key, { request, resolve, reject });
    const onAbort = () => {
      flow.pending.delete(key);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    flow.wake?.();
    return promise.finally(() => signal.removeEventListener("abort", onAbort));
  }

  #hasRoom(principal: string): boolean {
    return this.#flows.size < this.#options.maxFlows &&
      (this.#byPrincipal.get(principal) ?? 0) < this.#options.maxFlowsPerPrincipal;
  }

  #hold(flow: Flow): void {
    if (this.#flows.has(flow.id)) return;
    flow.id ||= crypto.randomUUID();
    this.#flows.set(flow.id, flow);
    const principal = flow.caller.principal;
    this.#byPrincipal.set(principal, (this.#byPrincipal.get(principal) ?? 0) + 1);
  }

  #release(flow: Flow): void {
    if (!this.#flows.delete(flow.id)) return;
    const principal = flow.caller.principal;
    const left = (this.#byPrincipal.get(principal) ?? 1) - 1;
    if (left === 0) this.#byPrincipal.delete(principal);
    else this.#byPrincipal.set(principal, left);
  }

  #end(flow: Flow, reason: string): void {
    this.#release(flow);
    const error = new McpError(ErrorCode.InternalError, `Cannot finish the request: ${reason}`);
    for (const pending of flow.pending.values()) pending.reject(error);
    flow.pending.clear();
    flow.stop.abort(error);
    flow.outcome.catch(() => {});
  }
}

/**
 * A legacy server→client request as a 2026-07-28 input request: URL elicitations lose the
 * 2025-11-25 `elicitationId` (the retry itself tells the server the outcome).
 */
function forClient(request: InputRequest): JsonObject {
  if (request.method !== "elicitation/create" || request.params?.elicitationId === undefined) {
    return request.params === undefined
      ? { method: request.method }
      : { method: request.method, params: request.params };
  }
  const { elicitationId: _, ...params } = request.params;
  return { method: request.method, params };
}
