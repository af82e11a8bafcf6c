/**
 * DNS-rebinding protection (spec: Streamable HTTP security): a present but foreign `Origin`
 * is refused, and a gateway bound to loopback only answers requests addressed to a loopback
 * host name, so a hostile page that re-points its domain at 127.0.0.1 gets a 403.
 */

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Whether a bind address or host name is loopback. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Options of {@link createOriginGuard}. */
export interface OriginGuardOptions {
  /** The address the gateway listens on. */
  bindHost: string;
  /** Origins allowed besides loopback ones and the request's own host, e.g. `https://app.example.com`. */
  allowedOrigins: readonly string[];
}

/** Returns the reason a request is refused, or undefined when it may proceed. */
export type OriginGuard = (req: Request) => string | undefined;

/** Builds the Host and Origin check for one listener. */
export function createOriginGuard(options: OriginGuardOptions): OriginGuard {
  const loopbackOnly = isLoopbackHost(options.bindHost);
  const allowed = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, "")));
  return (req) => {
    const host = req.headers.get("host");
    const hostName = host === null ? undefined : hostnameOf(host);
    if (loopbackOnly && hostName !== undefined && !isLoopbackHost(hostName)) {
      return `Host '${host}' is not allowed for a gateway bound to loopback`;
    }
    const origin = req.headers.get("origin");
    if (origin === null) return undefined;
    const normalized = origin.toLowerCase();
    if (allowed.has(normalized)) return undefined;
    let url: URL;
    try {
      url = new URL(normalized);
    } catch {
      return `Origin '${origin}' is not a valid origin`;
    }
    if (isLoopbackHost(url.hostname)) return undefined;
    if (host !== null && url.host === host.toLowerCase()) return undefined;
    return `Origin '${origin}' is not allowed`;
  };
}

function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}
