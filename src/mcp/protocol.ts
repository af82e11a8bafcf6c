/** MCP protocol versions the gateway speaks, and version negotiation (spec: lifecycle). */

/** The newest revision, offered to clients that ask for one we do not know. */
export const LATEST_PROTOCOL_VERSION = "2025-11-25";

/** Revisions accepted from downstream clients, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
];

/** The revision a client that sends no MCP-Protocol-Version header is assumed to speak. */
export const DEFAULT_HEADER_VERSION = "2025-03-26";

/** Whether a revision string is one the gateway accepts. */
export function isSupportedVersion(version: string): boolean {
  return SUPPORTED_PROTOCOL_VERSIONS.includes(version);
}

/** Echoes a supported requested version, otherwise answers the latest (spec: version negotiation). */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === "string" && isSupportedVersion(requested)
    ? requested
    : LATEST_PROTOCOL_VERSION;
}

/** Whether a negotiated revision still allows JSON-RPC batches (removed in 2025-06-18). */
export function allowsBatches(version: string): boolean {
  return version === "2025-03-26";
}
