/**
 * `mcpstead import`: turns the `mcpServers` JSON of Claude Desktop, Cursor and similar clients
 * into mcpstead YAML, so an existing client setup can move behind the gateway.
 */
import { stringify } from "yaml";
import { ConfigError } from "./error.ts";

type Json = Record<string, unknown>;

const TRANSPORTS: Record<string, string | undefined> = {
  stdio: undefined,
  sse: "sse",
  http: "streamable",
  "streamable-http": "streamable",
  streamableHttp: "streamable",
};

/** Converts a client config (`{"mcpServers": {...}}`) to the YAML of an mcpstead config. */
export function importClientConfig(text: string, file: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, 0, 0, "", `Cannot import: not JSON (${(error as Error).message})`);
  }
  const servers = isObject(parsed) ? parsed.mcpServers ?? parsed.servers : undefined;
  if (!isObject(servers)) {
    throw new ConfigError(file, 0, 0, "", 'Cannot import: no "mcpServers" object found');
  }
  const out: Json[] = [];
  const notes: string[] = [];
  for (const [key, value] of Object.entries(servers)) {
    if (!isObject(value)) {
      notes.push(`skipped '${key}': not an object`);
      continue;
    }
    if (value.disabled === true) {
      notes.push(`skipped '${key}': disabled`);
      continue;
    }
    const clean = cleanName(key);
    const name = unique(clean, out);
    if (name !== key) {
      const why = clean !== name ? `'${clean}' is taken` : renameReason(key);
      notes.push(`renamed '${key}' to '${name}' (${why})`);
    }
    const server: Json = { name };
    if (typeof value.command === "string") {
      server.command = value.command;
      if (Array.isArray(value.args) && value.args.length > 0) server.args = value.args.map(String);
      if (isObject(value.env) && Object.keys(value.env).length > 0) {
        server.env = value.env;
        notes.push(
          `'${name}': env values are copied as written; prefer "\${VAR}" references for secrets`,
        );
      }
      if (typeof value.cwd === "string") server.cwd = value.cwd;
    } else if (typeof value.url === "string" || typeof value.serverUrl === "string") {
      server.url = value.url ?? value.serverUrl;
      const type = typeof value.type === "string"
        ? value.type
        : typeof value.transport === "string"
        ? value.transport
        : undefined;
      const protocol = type === undefined ? undefined : TRANSPORTS[type];
      if (protocol !== undefined) server.protocol = protocol;
      if (isObject(value.headers) && Object.keys(value.headers).length > 0) {
        Object.assign(server, importHeaders(name, value.headers, notes));
      }
    } else {
      notes.push(`skipped '${key}': it has neither "command" nor "url"`);
      continue;
    }
    out.push(server);
  }
  const header = [
    `# Imported from ${file} by mcpstead import.`,
    ...notes.map((n) => `# Note: ${n}.`),
  ];
  return `${header.join("\n")}\n${stringify({ servers: out }, { lineWidth: 0 })}`;
}

/**
 * A server name that keeps tool names readable: only letters, digits, '_' and '-' (anything else
 * makes every `<server>__<tool>` name hashed), and no '__' (it separates server and tool).
 */
function cleanName(key: string): string {
  return key.trim().replace(/[^A-Za-z0-9_-]+/g, "_").replace(/_{2,}/g, "_")
    .replace(/^_+|_+$/g, "") || "server";
}

function renameReason(key: string): string {
  return /[^A-Za-z0-9_-]/.test(key.trim())
    ? "letters, digits, '_' and '-' keep its tool names readable instead of hashed"
    : "'__' separates server and tool names";
}

/** `name`, or `name-2`, `name-3`, ... when an earlier server took it. */
function unique(name: string, taken: readonly Json[]): string {
  const names = new Set(taken.map((server) => server.name));
  let candidate = name;
  for (let i = 2; names.has(candidate); i++) candidate = `${name}-${i}`;
  return candidate;
}

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|token|key|secret|passw|cookie|session|credential/i;

/**
 * A server's headers, with credentials written in the file turned into variable references:
 * `Authorization: Bearer <token>` becomes `auth: {type: bearer, token_env: <NAME>_TOKEN}`, other
 * credentials `${<NAME>_<HEADER>}`; a note names each variable to set. Values that already use
 * `${VAR}` are kept.
 */
function importHeaders(server: string, headers: Json, notes: string[]): Json {
  const out: Json = {};
  const kept: Json = {};
  const prefix = envName(server);
  for (const [header, raw] of Object.entries(headers)) {
    const value = String(raw);
    if (!SECRET_HEADER.test(header) || value.includes("${")) {
      kept[header] = value;
    } else if (header.toLowerCase() === "authorization" && /^bearer\s+\S/i.test(value)) {
      out.auth = { type: "bearer", token_env: `${prefix}_TOKEN` };
      notes.push(
        `'${server}': its bearer token is read from $${prefix}_TOKEN (auth.token_env); set that ` +
          "variable to the token the client file had",
      );
    } else {
      const variable = `${prefix}_${envName(header)}`;
      kept[header] = `\${${variable}}`;
      notes.push(
        `'${server}': header '${header}' reads \${${variable}}; set that variable to the value ` +
          "the client file had",
      );
    }
  }
  if (Object.keys(kept).length > 0) out.headers = kept;
  return out;
}

/** An environment variable name made of `text`: upper case, '_' for anything else. */
function envName(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "SERVER";
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
