/**
 * MCP 2026-07-28, the "modern" era: no session, every request carries its protocol version and
 * the client's capabilities in a `_meta` envelope, and Streamable HTTP mirrors the method and
 * name into headers (spec 2026-07-28: basic/versioning, transports/streamable-http). This module
 * tells the eras apart and checks a modern request's envelope and headers; it does no I/O.
 */
import { isLogLevel } from "./log_levels.ts";
import { ErrorCode, isJsonObject, type Json, type JsonObject } from "./jsonrpc.ts";

/** The first revision without `initialize`; later revisions compare greater as strings. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";

/** Modern revisions the gateway serves and speaks, newest first. */
export const MODERN_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION];

/** The reserved `_meta` keys of the per-request envelope and of results. */
export const META = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

/** Keys under this prefix belong to the protocol; the gateway owns them on every hop. */
const RESERVED_PREFIX = "io.modelcontextprotocol/";

/** The body field each request's `Mcp-Name` header mirrors. */
const NAME_SOURCE: Readonly<Record<string, "name" | "uri">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
};

const SENTINEL_PREFIX = "=?base64?";
const SENTINEL_SUFFIX = "?=";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PLAIN_HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a revision string names the modern era (2026-07-28 or later). */
export function isModernVersion(version: string): boolean {
  // The comparison first: it settles every 2025 version without the pattern.
  return version >= MODERN_PROTOCOL_VERSION && VERSION_SHAPE.test(version);
}

/** Error codes only a modern server answers with (spec 2026-07-28: basic/index, error codes). */
const MODERN_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.HeaderMismatch,
  ErrorCode.MissingRequiredClientCapability,
  ErrorCode.UnsupportedProtocolVersion,
]);

/** Whether a JSON-RPC error code shows that its sender speaks the modern era. */
export function isModernError(code: number): boolean {
  return MODERN_ERRORS.has(code);
}

/** What one modern request declares about its client. */
export interface Envelope {
  protocolVersion: string;
  clientCapabilities: JsonObject;
  clientInfo: { name: string; version: string } | undefined;
  /** The level the client wants `notifications/message` at; none when absent (spec: logging). */
  logLevel: string | undefined;
}

/** A refusal before a request is served: the HTTP status, the JSON-RPC error and its data. */
export interface Refusal {
  status: number;
  code: number;
  message: string;
  data?: Json;
}

/** How one POSTed message is to be served. */
export type Classification =
  | { era: "legacy" }
  | { era: "modern"; envelope: Envelope }
  | { era: "refused"; refusal: Refusal };

/** The `_meta` object of a message's params, if it has one. */
function metaOf(params: unknown): JsonObject | undefined {
  if (!isJsonObject(params)) return undefined;
  const meta = params._meta;
  return isJsonObject(meta) ? meta : undefined;
}

/** Whether a message's params claim the modern era (carry an envelope protocol version). */
export function claimsModern(params: unknown): boolean {
  const meta = metaOf(params);
  return meta !== undefined && META.protocolVersion in meta;
}

/**
 * Tells a POSTed message's era by its body (a proxy that drops a header must not change it): a
 * request whose `_meta` carries the envelope is modern; a modern `MCP-Protocol-Version` header
 * without an envelope is refused; everything else (initialize, batches, responses, requests that
 * claim nothing) is served as before. A request of a 2025 session (`inSession`, with no modern
 * header) stays a 2025 one whatever its `_meta` says: the gateway owns the reserved keys and
 * drops them.
 */
export function classify(
  body: unknown,
  headerVersion: string | null,
  inSession = false,
): Classification {
  if (!isJsonObject(body) || typeof body.method !== "string") return { era: "legacy" };
  const modernHeader = headerVersion !== null && isModernVersion(headerVersion.trim());
  if (inSession && !modernHeader) return { era: "legacy" };
  if (!claimsModern(body.params)) {
    if (!modernHeader) return { era: "legacy" };
    if (body.method === "initialize") {
      return refused(
        ErrorCode.HeaderMismatch,
        "an initialize request was sent with a modern MCP-Protocol-Version header",
      );
    }
    return {
      era: "refused",
      refusal: {
        status: 400,
        code: ErrorCode.InvalidParams,
        message:
          `Invalid params: the MCP-Protocol-Version header names ${headerVersion!.trim()}, ` +
          `but params._meta lacks ${META.protocolVersion} and ${META.clientCapabilities}`,
      },
    };
  }
  const envelope = readEnvelope(metaOf(body.params)!);
  if ("problem" in envelope) {
    return {
      era: "refused",
      refusal: {
        status: 400,
        code: ErrorCode.InvalidParams,
        message: `Invalid _meta envelope: ${envelope.key}: ${envelope.problem}`,
        data: { envelope: { key: envelope.key, problem: envelope.problem } },
      },
    };
  }
  return { era: "modern", envelope };
}

/** Reads and checks a modern envelope; the first problem found otherwise. */
export function readEnvelope(meta: JsonObject): Envelope | { key: string; problem: string } {
  const version = meta[META.protocolVersion];
  const capabilities = meta[META.clientCapabilities];
  const info = meta[META.clientInfo];
  const level = meta[META.logLevel];
  if (version === undefined) return { key: META.protocolVersion, problem: "missing" };
  if (capabilities === undefined) return { key: META.clientCapabilities, problem: "missing" };
  if (typeof version !== "string" || version === "") {
    return { key: META.protocolVersion, problem: "expected a protocol version string" };
  }
  if (!isJsonObject(capabilities)) {
    return { key: META.clientCapabilities, problem: "expected an object" };
  }
  if (
    info !== undefined &&
    !(isJsonObject(info) && typeof info.name === "string" && typeof info.version === "string")
  ) {
    return { key: META.clientInfo, problem: "expected an object with name and version strings" };
  }
  if (level !== undefined && !isLogLevel(level)) {
    return { key: META.logLevel, problem: "expected a log level such as 'info'" };
  }
  return {
    protocolVersion: version,
    clientCapabilities: capabilities,
    clientInfo: info === undefined
      ? undefined
      : { name: info.name as string, version: info.version as string },
    logLevel: level as string | undefined,
  };
}

/** The -32022 refusal of a revision the gateway does not serve, listing what it does. */
export function unsupportedVersion(requested: string, supported: readonly string[]): Refusal {
  return {
    status: 400,
    code: ErrorCode.UnsupportedProtocolVersion,
    message: `Unsupported protocol version: ${requested}`,
    data: { supported: [...supported], requested },
  };
}

/**
 * Checks the standard request headers of a modern POST against its body (spec: transports,
 * server validation): `MCP-Protocol-Version` and `Mcp-Method` are required and must match, and
 * `Mcp-Name` must mirror `params.name` or `params.uri` where the method has one.
 */
export function checkStandardHeaders(
  method: string,
  params: JsonObject | undefined,
  envelope: Envelope,
  headers: Headers,
): Refusal | undefined {
  const version = headers.get("mcp-protocol-version")?.trim();
  if (version === undefined) return mismatch("the required MCP-Protocol-Version header is missing");
  if (version !== envelope.protocolVersion) {
    return mismatch(
      `MCP-Protocol-Version header value '${version}' does not match body value '${envelope.protocolVersion}'`,
    );
  }
  const methodHeader = headers.get("mcp-method")?.trim();
  if (methodHeader === undefined) return mismatch("the required Mcp-Method header is missing");
  if (methodHeader !== method) {
    return mismatch(
      `Mcp-Method header value '${methodHeader}' does not match body value '${method}'`,
    );
  }
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  const bodyValue = field === undefined ? undefined : params?.[field];
  if (typeof bodyValue !== "string") return undefined;
  const nameHeader = headers.get("mcp-name")?.trim();
  if (nameHeader === undefined) return mismatch("the required Mcp-Name header is missing");
  const decoded = decodeHeaderValue(nameHeader);
  if (decoded === undefined) return mismatch("the Mcp-Name header carries an invalid Base64 value");
  if (decoded !== bodyValue) {
    return mismatch(`Mcp-Name header value '${decoded}' does not match body value '${bodyValue}'`);
  }
  return undefined;
}

/** One `x-mcp-header` declaration of a tool: the header name and the property path it mirrors. */
interface ParamHeader {
  header: string;
  path: readonly string[];
  numeric: boolean;
}

const declarationsBySchema = new WeakMap<JsonObject, readonly ParamHeader[]>();

/** The `x-mcp-header` declarations of a tool's input schema (cached per schema object). */
function paramHeadersOf(schema: JsonObject): readonly ParamHeader[] {
  let found = declarationsBySchema.get(schema);
  if (found) return found;
  const out: ParamHeader[] = [];
  const walk = (node: JsonObject, path: string[]) => {
    const properties = node.properties;
    if (!isJsonObject(properties)) return;
    for (const [key, child] of Object.entries(properties)) {
      if (!isJsonObject(child)) continue;
      const header = child["x-mcp-header"];
      if (typeof header === "string" && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
        out.push({ header, path: [...path, key], numeric: child.type === "integer" });
      }
      if (path.length < 16) walk(child, [...path, key]);
    }
  };
  walk(schema, []);
  declarationsBySchema.set(schema, found = out);
  return found;
}

/** The `Mcp-Param-*` headers a modern client sends for a call of a tool with this schema. */
export function paramHeaders(schema: unknown, args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!isJsonObject(schema)) return headers;
  for (const declaration of paramHeadersOf(schema)) {
    const value = valueAt(args, declaration.path);
    const text = primitiveText(value);
    if (text !== undefined) {
      headers[`mcp-param-${declaration.header.toLowerCase()}`] = encodeHeaderValue(text);
    }
  }
  return headers;
}

/** Checks the `Mcp-Param-*` headers of a modern `tools/call` against its arguments. */
export function checkParamHeaders(
  schema: unknown,
  args: unknown,
  headers: Headers,
): Refusal | undefined {
  if (!isJsonObject(schema)) return undefined;
  for (const declaration of paramHeadersOf(schema)) {
    const text = primitiveText(valueAt(args, declaration.path));
    if (text === undefined) continue;
    const name = `Mcp-Param-${declaration.header}`;
    const raw = headers.get(name)?.trim();
    if (raw === undefined) return mismatch(`the required ${name} header is missing`);
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) {
      return mismatch(`the ${name} header carries an invalid Base64 value`);
    }
    const equal = declaration.numeric ? Number(decoded) === Number(text) : decoded === text;
    if (!equal) {
      return mismatch(`${name} header value '${decoded}' does not match body value '${text}'`);
    }
  }
  return undefined;
}

/** A header value for `text`: as is when plain visible ASCII, else the Base64 sentinel form. */
export function encodeHeaderValue(text: string): string {
  const plain = PLAIN_HEADER_VALUE.test(text) &&
    !(text.startsWith(SENTINEL_PREFIX) && text.endsWith(SENTINEL_SUFFIX));
  if (plain) return text;
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `${SENTINEL_PREFIX}${btoa(binary)}${SENTINEL_SUFFIX}`;
}

/** Decodes a header value that may use the Base64 sentinel; undefined when the encoding is bad. */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX))) return value;
  const encoded = value.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** A `_meta` object without the reserved keys (the same object when it has none). */
export function withoutReservedKeys(meta: JsonObject): JsonObject {
  let reserved = false;
  for (const key in meta) {
    if (key.startsWith(RESERVED_PREFIX)) {
      reserved = true;
      break;
    }
  }
  return reserved ? copyWithout(meta, (key) => key.startsWith(RESERVED_PREFIX)) : meta;
}

/**
 * Params without the client's reserved `_meta` keys (a legacy upstream must not see a modern
 * envelope it did not ask for); the same object when there are none, so the common case copies
 * nothing.
 */
export function withoutReservedMeta(params: JsonObject): JsonObject {
  const meta = params._meta;
  if (!isJsonObject(meta)) return params;
  const kept = withoutReservedKeys(meta);
  if (kept === meta) return params;
  return hasKeys(kept) ? { ...params, _meta: kept } : copyWithout(params, (key) => key === "_meta");
}

function hasKeys(object: JsonObject): boolean {
  for (const _ in object) return true;
  return false;
}

/**
 * A copy of `object` without the keys `dropped` picks. Copied, not deleted from a copy: deleting
 * makes an object slow to read and serialise. A `__proto__` key is copied as a key.
 */
function copyWithout(object: JsonObject, dropped: (key: string) => boolean): JsonObject {
  const out: JsonObject = {};
  for (const key in object) {
    if (dropped(key)) continue;
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: object[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[key] = object[key]!;
  }
  return out;
}

/** Params carrying `envelope` as their reserved `_meta` keys, replacing any the client sent. */
export function withEnvelope(params: JsonObject | undefined, envelope: JsonObject): JsonObject {
  const base = params === undefined ? {} : withoutReservedMeta(params);
  const meta = isJsonObject(base._meta) ? base._meta : {};
  return { ...base, _meta: { ...meta, ...envelope } };
}

function refused(code: number, message: string): Classification {
  return { era: "refused", refusal: { status: 400, code, message } };
}

function mismatch(message: string): Refusal {
  return { status: 400, code: ErrorCode.HeaderMismatch, message: `Header mismatch: ${message}` };
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isJsonObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function primitiveText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
