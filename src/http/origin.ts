/**
 * DNS-rebinding protection (spec: Streamable HTTP security). A hostile page whose domain is
 * re-pointed at the gateway sends its own name as `Host` and its own origin as `Origin`, so:
 * `Host` must name the gateway (a loopback name, the bind address, or `mcp.allowed_hosts`),
 * whatever address it listens on; and a present `Origin` must be loopback, listed in
 * `mcp.allowed_origins`, or the same as that checked `Host`. A `Host` that is not a host name or
 * address with an optional port is malformed (400), so it cannot smuggle a path past a proxy.
 */

/** Why a request is refused: 400 for a malformed Host, 403 for a foreign Host or Origin. */
export interface GuardRefusal {
  status: 400 | 403;
  reason: string;
}

/** Returns the refusal of a request, or undefined when it may proceed. */
export type OriginGuard = (req: Request) => GuardRefusal | undefined;

/** Options of {@link createOriginGuard}. */
export interface OriginGuardOptions {
  /** The address the gateway listens on (`host`). */
  bindHost: string;
  /** Host names or addresses clients may use besides loopback ones and the bind address. */
  allowedHosts: readonly string[];
  /** Origins allowed besides loopback ones and the request's own host, e.g. `https://app.example.com`. */
  allowedOrigins: readonly string[];
}

const LOOPBACK_NAMES = new Set(["localhost", "::1", "[::1]"]);
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const UNSPECIFIED = new Set(["0.0.0.0", "::", "[::]"]);
// RFC 9110 §7.2: uri-host [":" port], where the host is a DNS name, IPv4 or a bracketed IPv6.
const HOST_HEADER = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9._-]{1,253}))(?::\d{1,5})?$/;

/** Whether a bind address is every interface (`0.0.0.0` or `::`, with or without brackets). */
export function isUnspecifiedHost(host: string): boolean {
  return UNSPECIFIED.has(host);
}

/** Whether a bind address or host name (IPv6 with or without brackets) is loopback. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || LOOPBACK_V4.test(host);
}

/**
 * The host name a `Host` header names: lowercased, IPv6 without brackets, no trailing dot; or
 * undefined when the header is not `host[:port]` (a path, user info, spaces, an empty port).
 */
export function hostOfHeader(header: string): string | undefined {
  // Every request of a client names the same host, and the server reads it before the guard.
  if (header === lastHeader) return lastHost;
  const match = HOST_HEADER.exec(header);
  const name = match ? (match[1] ?? match[2]!).toLowerCase() : undefined;
  lastHeader = header;
  return lastHost = name?.endsWith(".") ? name.slice(0, -1) : name;
}

let lastHeader: string | undefined;
let lastHost: string | undefined;

/** Builds the Host and Origin check for one listener. */
export function createOriginGuard(options: OriginGuardOptions): OriginGuard {
  const hosts = new Set(options.allowedHosts.map(bare));
  if (!isUnspecifiedHost(options.bindHost)) hosts.add(bare(options.bindHost));
  const origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, "")));
  return (req) => {
    const host = req.headers.get("host") ?? authorityOf(req.url);
    const name = hostOfHeader(host);
    if (name === undefined) {
      return { status: 400, reason: `Host '${host.slice(0, 100)}' is not a host name or address` };
    }
    if (!hosts.has(name) && !isLoopbackHost(name)) {
      return {
        status: 403,
        reason: `Host '${host}' is not one of the gateway's names (see mcp.allowed_hosts)`,
      };
    }
    const origin = req.headers.get("origin");
    if (origin === null) return undefined;
    const normalized = origin.toLowerCase();
    if (origins.has(normalized)) return undefined;
    const url = URL.parse(normalized);
    if (url === null || url.origin !== normalized) {
      return { status: 403, reason: `Origin '${origin.slice(0, 100)}' is not a valid origin` };
    }
    if (isLoopbackHost(url.hostname) || url.host === host.toLowerCase()) return undefined;
    return { status: 403, reason: `Origin '${origin}' is not allowed (see mcp.allowed_origins)` };
  };
}

/** A host name without IPv6 brackets or a trailing dot, lowercased. */
function bare(host: string): string {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name.startsWith("[") && name.endsWith("]") ? name.slice(1, -1) : name;
}

/** The `host[:port]` of a request URL (for requests without a Host header). */
function authorityOf(url: string): string {
  const start = url.indexOf("//") + 2;
  const end = url.indexOf("/", start);
  return url.slice(start, end === -1 ? undefined : end);
}

/** What {@link remoteExposure} decides about a config. */
export interface Exposure {
  /** `error`: do not start (or reload); `warn`: start, and say so. */
  level: "error" | "warn";
  message: string;
}

/**
 * Whether a config lets other machines use every tool without credentials: a non-loopback bind
 * with `mcp.auth.mode: none` is refused unless `mcp.allow_unauthenticated_remote` says it is meant.
 */
export function remoteExposure(
  host: string,
  mcp: { auth: { mode: string }; allow_unauthenticated_remote: boolean },
): Exposure | undefined {
  if (isLoopbackHost(host) || mcp.auth.mode !== "none") return undefined;
  if (mcp.allow_unauthenticated_remote) {
    return {
      level: "warn",
      message: `listening on '${host}' without authentication ` +
        "(mcp.allow_unauthenticated_remote: true): anyone who reaches the port can use every tool",
    };
  }
  return {
    level: "error",
    message: `host '${host}' accepts connections from other machines and mcp.auth.mode is ` +
      "'none', so anyone who reaches the port could use every tool; set mcp.auth.mode (bearer, " +
      "keys or basic), listen on 127.0.0.1, or set mcp.allow_unauthenticated_remote: true if " +
      "that is intended (e.g. a container published only on the host's loopback)",
  };
}
