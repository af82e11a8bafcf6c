/** Syntax checks for the network values in the config: hosts, URLs, origins and header names. */

const IPV4_PART = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Returns the listen host `text` names, without IPv6 brackets, or undefined when it is neither an
 * IP literal ("127.0.0.1", "::1", "[::1]") nor a DNS host name ("localhost").
 */
export function parseHost(text: string): string | undefined {
  if (text.startsWith("[") && text.endsWith("]")) {
    const inner = text.slice(1, -1);
    return isIpv6(inner) ? inner : undefined;
  }
  if (IPV4.test(text)) return text;
  if (text.includes(":")) return isIpv6(text) ? text : undefined;
  return isHostName(text) ? text : undefined;
}

/** Whether `text` is an absolute http: or https: URL with a host. */
export function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  const url = URL.parse(text);
  return url !== null && url.hostname !== "";
}

/** Whether a URL (or text that is none) carries no user info, query or fragment. */
export function isPlainUrl(text: string): boolean {
  const url = URL.parse(text);
  return url === null ||
    (url.username === "" && url.password === "" && url.search === "" && url.hash === "");
}

/**
 * Returns the origin `text` spells (scheme://host[:port], lowercased) or, when it is no origin,
 * the origin of the URL it is, if any, as a suggestion.
 */
export function parseOrigin(text: string): { origin: string } | { suggestion: string | undefined } {
  const url = URL.parse(text);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return { suggestion: undefined };
  }
  if (url.origin === text.toLowerCase()) return { origin: url.origin };
  return { suggestion: url.origin };
}

/**
 * Hides what a URL-like string may carry as a credential: its user information (user name and
 * password become one `***`) and every query value (`?api_key=***`). Anything else is kept.
 */
export function redactUrl(text: string): string {
  const url = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? URL.parse(text) : null;
  if (url === null) {
    return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@")
      .replace(/([?&][^=&#]*=)[^&#]*/g, "$1***");
  }
  if (url.username === "" && url.password === "" && url.search === "") return text;
  if (url.username !== "" || url.password !== "") {
    url.username = "***";
    url.password = "";
  }
  for (const key of new Set(url.searchParams.keys())) url.searchParams.set(key, "***");
  return url.href;
}

/** Whether `name` is a valid HTTP header name (an RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

function isIpv6(text: string): boolean {
  return /^[0-9A-Fa-f:.]+$/.test(text) && text.includes(":") &&
    URL.canParse(`http://[${text}]/`);
}

function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const labels = text.split(".");
  // A name whose last label is numeric would be read as a (malformed) IPv4 address.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return false;
  return labels.every((label) => LABEL.test(label));
}
