/** The `Host` header's grammar: a host name or IP address with an optional port, nothing else. */

/** A parsed `Host` value. */
export interface HostValue {
  /** The name or address as sent, IPv6 in brackets (`[::1]`). */
  hostname: string;
  port: number | undefined;
}

const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;

/**
 * Splits a `Host` value into name and port; undefined when it is anything else (a path, a
 * query, user info, spaces, an empty name or a port over 65535), which a server answers 400.
 */
export function parseHost(value: string): HostValue | undefined {
  let hostname = value;
  let port: number | undefined;
  const close = value.lastIndexOf("]");
  const colon = value.lastIndexOf(":");
  if (colon > close && (close !== -1 || value.indexOf(":") === colon)) {
    const digits = value.slice(colon + 1);
    if (!/^\d{1,5}$/.test(digits) || Number(digits) > 65535) return undefined;
    port = Number(digits);
    hostname = value.slice(0, colon);
  }
  if (hostname.startsWith("[") ? !IPV6.test(hostname) : !NAME.test(hostname)) return undefined;
  return { hostname, port };
}
