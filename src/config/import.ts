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
    const name = key.replaceAll("__", "_").trim() || "server";
    if (name !== key) {
      notes.push(`renamed '${key}' to '${name}' ('__' separates server and tool names)`);
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
        server.headers = value.headers;
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

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
