/**
 * The config area: the schema of mcpstead's YAML file, loading with `file:line:column` errors, and
 * finding the file. Depends on nothing else in mcpstead.
 *
 * @module
 */
export { resolveConfigPath } from "./discover.ts";
export type { ConfigPathInputs, ConfigPathSource } from "./discover.ts";
export { BEARER_TOKEN_VAR, expandEnv } from "./env.ts";
export type { EnvLookup } from "./env.ts";
export { type ConfigDiff, diffConfigs } from "./diff.ts";
export { ConfigError } from "./error.ts";
export { importClientConfig } from "./import.ts";
export { loadConfig, parseConfig, validateConfig } from "./load.ts";
export { redactUrl } from "./net.ts";
export { configSecrets, createRedactor, type Redact } from "./redact.ts";
export type { LoadOptions, Validation } from "./load.ts";
export {
  configSchema,
  DEFAULT_ACCEPT,
  logLevelSchema,
  mcpSchema,
  refineServer,
  serverObjectSchema,
  serverSchema,
} from "./schema.ts";
export type {
  Config,
  DownstreamAuth,
  LogLevel,
  McpConfig,
  ParsedConfig,
  ParsedServer,
  ServerConfig,
  UpstreamAuth,
} from "./schema.ts";
