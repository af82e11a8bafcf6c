/**
 * OpenAPI upstreams: a {@link MessageTransport} that answers MCP itself from an OpenAPI
 * document (loaded at each session start) and turns every `tools/call` into one HTTP request to
 * the service, so the supervisor, catalog, limits and metrics treat it like any other upstream.
 */
import { pathToFileURL } from "node:url";
import {
  GatewayError,
  type GatewayErrorCode,
  type GatewayErrorOptions,
  McpError,
} from "../mcp/errors.ts";
import {
  ErrorCode,
  isJsonObject,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.ts";
import { negotiateVersion } from "../mcp/protocol.ts";
import { redactUrl } from "../config/net.ts";
import { describeError } from "../log.ts";
import { OpenApiError } from "./openapi_schema.ts";
import { buildRequest, errorResult, toolResult } from "./openapi_request.ts";
import {
  documentBaseUrl,
  type OpenApiOperation,
  openApiOperations,
  parseOpenApi,
} from "./openapi_spec.ts";
import {
  type Deliver,
  type FetchLike,
  type HttpTransportOptions,
  type MessageTransport,
  redirectNote,
  unreachable,
} from "./transport.ts";

/** Options of {@link OpenApiTransport}. */
export interface OpenApiTransportOptions
  extends Omit<HttpTransportOptions, "url" | "accept" | "normalizeSseEvents"> {
  /** Where the OpenAPI document is: an http(s) URL, or a file path. */
  document: string;
  /** The API's base URL, replacing the document's `servers[0].url`. */
  baseUrl?: string;
  /** Reads a document given as a file path; `Deno.readTextFile` by default. */
  readTextFile?: (path: string) => Promise<string>;
}

/** What one loaded document offers. */
interface Service {
  baseUrl: string;
  operations: Map<string, OpenApiOperation>;
  tools: JsonObject[];
  serverInfo: JsonObject;
  instructions: string | undefined;
}

const DOCUMENT_ACCEPT = "application/json, application/yaml;q=0.9, */*;q=0.5";
const CALL_ACCEPT = "application/json, */*;q=0.5";

/** One session with an HTTP API described by an OpenAPI 3.0/3.1 document. */
export class OpenApiTransport implements MessageTransport {
  readonly kind = "openapi" as const;
  readonly correlates = true;
  readonly #options: OpenApiTransportOptions;
  readonly #fetch: FetchLike;
  readonly #closing = new AbortController();
  #deliver: Deliver = () => {};
  #service: Service | undefined;

  constructor(options: OpenApiTransportOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  open(deliver: Deliver): Promise<void> {
    this.#deliver = deliver;
    return Promise.resolve();
  }

  initialized(): void {}

  resetSession(): void {
    this.#service = undefined;
  }

  close(): Promise<void> {
    this.#closing.abort();
    return Promise.resolve();
  }

  /** Answers a request at once; notifications and responses need no answer here. */
  async send(message: JsonRpcMessage, signal: AbortSignal): Promise<void> {
    if (!("method" in message) || !("id" in message)) return;
    const request: JsonRpcRequest = message;
    let reply: JsonRpcMessage;
    try {
      const result = await this.#answer(request, AbortSignal.any([signal, this.#closing.signal]));
      reply = { jsonrpc: "2.0", id: request.id, result };
    } catch (error) {
      if (!(error instanceof McpError)) throw error;
      reply = { jsonrpc: "2.0", id: request.id, error: error.toJson() };
    }
    this.#deliver(reply, typeof request.id === "number" ? request.id : undefined);
  }

  async #answer(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject> {
    switch (request.method) {
      case "initialize":
        return await this.#initialize(request.params, signal);
      case "ping":
        return {};
      case "tools/list":
        return { tools: this.#loaded(request.method).tools };
      case "tools/call":
        return await this.#call(request.params ?? {}, signal);
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: '${request.method}'`);
    }
  }

  async #initialize(params: JsonObject | undefined, signal: AbortSignal): Promise<JsonObject> {
    this.#service = await this.#load(signal);
    const { serverInfo, instructions } = this.#service;
    return {
      protocolVersion: negotiateVersion(params?.protocolVersion),
      capabilities: { tools: {} },
      serverInfo,
      ...(instructions === undefined ? {} : { instructions }),
    };
  }

  #loaded(method: string): Service {
    if (this.#service !== undefined) return this.#service;
    throw new McpError(ErrorCode.InvalidRequest, `Cannot answer '${method}': not initialized`);
  }

  /** Reads and converts the document; every problem names the server and the document. */
  async #load(signal: AbortSignal): Promise<Service> {
    const { server, headers, log } = this.#options;
    const { text, documentUrl } = await this.#read(signal);
    this.#options.countBytes?.("received", text.length);
    try {
      const parsed = parseOpenApi(text);
      const fixed = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
      const { operations, skipped } = openApiOperations(parsed, fixed);
      if (skipped.length > 0) log.warn("OpenAPI operations left out", { operations: skipped });
      const info = isJsonObject(parsed.info) ? parsed.info : {};
      return {
        baseUrl: this.#options.baseUrl ?? documentBaseUrl(parsed, documentUrl),
        operations: new Map(operations.map((op) => [op.tool.name as string, op])),
        tools: operations.map((op) => op.tool),
        serverInfo: {
          name: typeof info.title === "string" ? info.title : server,
          version: typeof info.version === "string" ? info.version : "",
        },
        instructions: typeof info.description === "string" ? info.description : undefined,
      };
    } catch (error) {
      if (error instanceof OpenApiError) {
        throw this.#failed("upstream_protocol_error", error.message);
      }
      throw error;
    }
  }

  /** The document's text, and the URL its relative references are resolved against. */
  async #read(signal: AbortSignal): Promise<{ text: string; documentUrl: URL }> {
    const { document, userAgent } = this.#options;
    if (!/^https?:\/\//i.test(document)) {
      const read = this.#options.readTextFile ?? ((path: string) => Deno.readTextFile(path));
      try {
        return { text: await read(document), documentUrl: pathToFileURL(document) };
      } catch (error) {
        throw this.#failed("upstream_unreachable", describeError(error));
      }
    }
    let response: Response;
    try {
      response = await this.#fetch(document, {
        headers: { accept: DOCUMENT_ACCEPT, "user-agent": userAgent },
        // The document's URL may carry credentials; a redirect is reported, not followed.
        redirect: "manual",
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.#failed("upstream_unreachable", describeError(error));
    }
    if (!response.ok) {
      await response.body?.cancel();
      const status = `HTTP ${response.status} ${response.statusText}`.trim() +
        redirectNote(response);
      throw this.#failed("upstream_http_error", status, { status: response.status });
    }
    try {
      return { text: await response.text(), documentUrl: new URL(document) };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.#failed("upstream_disconnected", describeError(error));
    }
  }

  #failed(code: GatewayErrorCode, why: string, options?: GatewayErrorOptions): GatewayError {
    const { server, document } = this.#options;
    return new GatewayError(
      code,
      server,
      `Cannot load the OpenAPI document of upstream '${server}' from '${
        redactUrl(document)
      }': ${why}`,
      options,
    );
  }

  async #call(params: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    const service = this.#loaded("tools/call");
    const { server, countBytes } = this.#options;
    const name = params.name;
    const operation = typeof name === "string" ? service.operations.get(name) : undefined;
    if (operation === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: '${String(name)}'`);
    }
    const args = params.arguments ?? {};
    if (!isJsonObject(args)) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot call '${name}': arguments is not an object`,
      );
    }
    const built = buildRequest(service.baseUrl, operation, args);
    if ("error" in built) return errorResult(`Cannot call '${name}': ${built.error}`);
    if (built.body !== undefined) countBytes?.("sent", built.body.length);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(built.url, {
        method: operation.method,
        headers: {
          accept: CALL_ACCEPT,
          "user-agent": this.#options.userAgent,
          ...built.headers,
          ...this.#options.headers,
        },
        ...(built.body === undefined ? {} : { body: built.body }),
        // A redirect would carry the configured headers (credentials) to wherever it points.
        redirect: "manual",
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(server, error);
    }
    countBytes?.("received", text.length);
    return toolResult(operation, response, text);
  }
}
