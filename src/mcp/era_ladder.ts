/**
 * The checks a 2026-07-28 request passes before it is served, in the order of the spec's ladder
 * (spec 2026-07-28: transports/streamable-http, server validation): header/body mismatch of the
 * version (-32020), an unsupported version (-32022), the standard headers (-32020), a method
 * this revision removed (404 -32601), and the `Mcp-Param-*` headers of a tool call (-32020).
 */
import {
  checkParamHeaders,
  checkStandardHeaders,
  type Envelope,
  MODERN_VERSIONS,
  type Refusal,
  unsupportedVersion,
} from "./era.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "./jsonrpc.ts";

/** Methods 2026-07-28 removed; a modern request for one is answered 404 -32601. */
const REMOVED = new Set([
  "initialize",
  "ping",
  "logging/setLevel",
  "resources/subscribe",
  "resources/unsubscribe",
]);

/** The checks a modern request passes before it is served, in the order the spec's ladder has. */
export function modernLadder(
  message: JsonObject,
  envelope: Envelope,
  headers: Headers,
  options: { supportedVersions: readonly string[]; toolSchema(name: string): unknown },
): Refusal | undefined {
  const method = message.method as string;
  const headerVersion = headers.get("mcp-protocol-version")?.trim();
  if (headerVersion !== undefined && headerVersion !== envelope.protocolVersion) {
    return checkStandardHeaders(method, undefined, envelope, headers);
  }
  if (!MODERN_VERSIONS.includes(envelope.protocolVersion)) {
    return unsupportedVersion(envelope.protocolVersion, options.supportedVersions);
  }
  if (!("id" in message)) return undefined;
  const params = isJsonObject(message.params) ? message.params : undefined;
  const mismatch = checkStandardHeaders(method, params, envelope, headers);
  if (mismatch) return mismatch;
  if (REMOVED.has(method)) {
    return {
      status: 404,
      code: ErrorCode.MethodNotFound,
      message:
        `Method not found: '${method}' does not exist in protocol version ${envelope.protocolVersion}`,
    };
  }
  if (method === "tools/call" && typeof params?.name === "string") {
    return checkParamHeaders(options.toolSchema(params.name), params.arguments, headers);
  }
  return undefined;
}
