import type { JsonObject, JsonRpcMessage, JsonRpcRequest } from "../../src/mcp/jsonrpc.ts";
import type { Deliver, MessageTransport } from "../../src/upstream/transport.ts";

/** What a scripted upstream does with one request: return a result, throw, or answer by hand. */
export type Script = (
  request: JsonRpcRequest,
  reply: Replier,
) => JsonObject | undefined | Promise<JsonObject | undefined>;

/** Lets a script deliver messages itself (notifications before the result, a late answer). */
export interface Replier {
  deliver(message: JsonRpcMessage): void;
  result(result: JsonObject): void;
  error(code: number, message: string, data?: JsonObject): void;
}

/**
 * An in-memory upstream transport driven by a script, recording everything sent. As `streamable`
 * (the default) it tells which request a message belongs to; as `stdio` or `sse` it does not.
 */
export class ScriptedTransport implements MessageTransport {
  readonly kind: MessageTransport["kind"];
  readonly correlates: boolean;
  readonly sent: JsonRpcMessage[] = [];
  closed = false;
  #deliver: Deliver = () => {};
  #onClose: (error?: Error) => void = () => {};
  readonly #script: Script;

  constructor(script: Script, kind: "streamable" | "stdio" | "sse" = "streamable") {
    this.#script = script;
    this.kind = kind;
    this.correlates = kind === "streamable";
  }

  open(deliver: Deliver, onClose: (error?: Error) => void): Promise<void> {
    this.#deliver = deliver;
    this.#onClose = onClose;
    return Promise.resolve();
  }

  initialized(): void {}
  resetSession(): void {}

  async send(message: JsonRpcMessage): Promise<void> {
    this.sent.push(message);
    if (!("method" in message) || !("id" in message)) return;
    const request = message as JsonRpcRequest;
    const deliver = (m: JsonRpcMessage) =>
      this.#deliver(m, this.correlates ? request.id as number : undefined);
    const replier: Replier = {
      deliver,
      result: (result) => deliver({ jsonrpc: "2.0", id: request.id, result }),
      error: (code, text, data) =>
        deliver({
          jsonrpc: "2.0",
          id: request.id,
          error: data ? { code, message: text, data } : { code, message: text },
        }),
    };
    const result = await this.#script(request, replier);
    if (result !== undefined) replier.result(result);
  }

  /** Delivers a message the upstream sends unprompted (as on a listening stream). */
  push(message: JsonRpcMessage): void {
    this.#deliver(message);
  }

  /** Simulates the upstream going away. */
  fail(error: Error): void {
    this.#onClose(error);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The methods of every request sent, in order. */
  methods(): string[] {
    return this.sent.filter((m) => "method" in m).map((m) => (m as JsonRpcRequest).method);
  }
}

/** A script answering the handshake and tools/list from a mutable tool list. */
export function toolServer(tools: () => JsonObject[], extra?: Script): Script {
  return (request, reply) => {
    switch (request.method) {
      case "initialize":
        return {
          protocolVersion: "2025-11-25",
          capabilities: { tools: { listChanged: true } },
          serverInfo: { name: "scripted" },
        };
      case "tools/list":
        return { tools: tools() };
      case "ping":
        return {};
      default:
        return extra ? extra(request, reply) : undefined;
    }
  };
}
