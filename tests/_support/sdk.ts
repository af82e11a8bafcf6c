/**
 * The one module of the tests that imports the MCP SDK (`@modelcontextprotocol/sdk@1.32.2`).
 *
 * Why the `@ts-types` lines: the SDK's `exports["./*"]` maps a `<subpath>.js` specifier to the
 * missing `<subpath>.js.d.ts`, so under `deno check` a plain `.js` import is silently typed
 * `any` (SDK issue #2701). The directive names the subpath without `.js`, which resolves to the
 * real `.d.ts`, while the runtime still loads the `.js` file (the extensionless specifier fails
 * at run time with `ERR_MODULE_NOT_FOUND`). Every re-export below was checked to be typed.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/completable"
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
// @ts-types="@modelcontextprotocol/sdk/server/index"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/server/sse"
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
// @ts-types="@modelcontextprotocol/sdk/client/sse"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/inMemory"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ResultSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";

export {
  /** `tools/call` request schema, for server-side handlers on the low-level `Server`. */
  CallToolRequestSchema,
  /** JSON-RPC `tools/call` result schema (validates `content`, keeps extra fields). */
  CallToolResultSchema,
  /** Low-level MCP client. */
  Client,
  /** Wraps a zod schema of a prompt argument with a `completion/complete` callback. */
  completable,
  /** `sampling/createMessage` request schema, for client-side handlers. */
  CreateMessageRequestSchema,
  /** `sampling/createMessage` result schema, for server-side requests. */
  CreateMessageResultSchema,
  /** `elicitation/create` request schema, for client-side handlers. */
  ElicitRequestSchema,
  /** `elicitation/create` result schema, for server-side requests. */
  ElicitResultSchema,
  /** JSON-RPC and MCP numeric error codes. */
  ErrorCode,
  /** Linked in-process client/server transport pair. */
  InMemoryTransport,
  /** The newest protocol revision the SDK speaks ("2025-11-25"). */
  LATEST_PROTOCOL_VERSION,
  /** `tools/list` request schema, for server-side handlers on the low-level `Server`. */
  ListToolsRequestSchema,
  /** `notifications/message` schema, for client-side notification handlers. */
  LoggingMessageNotificationSchema,
  /** Error carrying a numeric JSON-RPC code and optional data. */
  McpError,
  /** High-level MCP server (`registerTool`, `registerResource`, ...). */
  McpServer,
  /** `notifications/progress` schema, for client-side notification handlers. */
  ProgressNotificationSchema,
  /** `notifications/prompts/list_changed` schema, for client-side notification handlers. */
  PromptListChangedNotificationSchema,
  /** `notifications/resources/list_changed` schema, for client-side notification handlers. */
  ResourceListChangedNotificationSchema,
  /** URI template for `McpServer.registerResource`. */
  ResourceTemplate,
  /** `notifications/resources/updated` schema, for client-side notification handlers. */
  ResourceUpdatedNotificationSchema,
  /** Loose result schema that keeps every field, for raw `Client.request` forwarding. */
  ResultSchema,
  /** Low-level MCP server. */
  Server,
  /** `logging/setLevel` request schema, for server-side handlers. */
  SetLevelRequestSchema,
  /** Legacy HTTP+SSE client transport. */
  SSEClientTransport,
  /** Legacy HTTP+SSE (2024-11-05) server transport on Node's http objects. */
  SSEServerTransport,
  /** Stdio client transport (spawns the server process). */
  StdioClientTransport,
  /** Stdio server transport (speaks on this process's stdin/stdout). */
  StdioServerTransport,
  /** Streamable HTTP client transport. */
  StreamableHTTPClientTransport,
  /** Error thrown by the Streamable HTTP client transport; `code` is the HTTP status. */
  StreamableHTTPError,
  /** `resources/subscribe` request schema, for server-side handlers. */
  SubscribeRequestSchema,
  /** Every protocol revision the SDK accepts, newest first. */
  SUPPORTED_PROTOCOL_VERSIONS,
  /** `notifications/tools/list_changed` schema, for client-side notification handlers. */
  ToolListChangedNotificationSchema,
  /** `resources/unsubscribe` request schema, for server-side handlers. */
  UnsubscribeRequestSchema,
  /** Streamable HTTP server transport on Web `Request`/`Response`. */
  WebStandardStreamableHTTPServerTransport,
};

// @ts-types="@modelcontextprotocol/sdk/types"
export type {
  /** Result of `tools/call`. */
  CallToolResult,
  /** Capabilities a client declares in `initialize`. */
  ClientCapabilities,
  /** Any JSON-RPC message (request, notification, response, error). */
  JSONRPCMessage,
  /** A JSON-RPC request. */
  JSONRPCRequest,
  /** A JSON-RPC response. */
  JSONRPCResponse,
  /** A `notifications/message` notification. */
  LoggingMessageNotification,
  /** Payload of a progress notification as passed to `onprogress`. */
  Progress,
  /** A JSON-RPC request id. */
  RequestId,
  /** Capabilities a server declares in `initialize`. */
  ServerCapabilities,
  /** Any notification a server may send. */
  ServerNotification,
  /** Any request a server may send. */
  ServerRequest,
  /** A tool definition as listed by `tools/list`. */
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
// @ts-types="@modelcontextprotocol/sdk/shared/protocol"
export type {
  /** The `extra` argument of request handlers (signal, `_meta`, `sendNotification`, ...). */
  RequestHandlerExtra,
} from "@modelcontextprotocol/sdk/shared/protocol.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
export type {
  /** The transport interface every SDK transport implements. */
  Transport,
} from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
export type {
  /** Storage the Streamable HTTP server transport uses to replay SSE events on reconnection. */
  EventStore,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
