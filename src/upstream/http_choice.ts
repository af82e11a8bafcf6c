/**
 * Which client a Streamable HTTP upstream gets: the native HTTP/1.1 client, unless something
 * only `fetch` does applies (an HTTP proxy in the environment, user info in the URL). An upstream
 * that speaks only HTTP/2 is found out at the first connection and moved to `fetch` then.
 */
import type { HttpClientChoice } from "./http_exchange.ts";

/** Reads an environment variable; throws (like `Deno.env.get`) when it may not. */
export type EnvReader = (name: string) => string | undefined;

/** Picks the client of the upstream at `url`; `caCerts` are its `tls_ca_file` roots. */
export function chooseHttpClient(
  url: string,
  caCerts: string[] | undefined,
  env: EnvReader,
): HttpClientChoice {
  const parsed = new URL(url);
  if (parsed.username !== "" || parsed.password !== "") {
    return { mode: "fetch", reason: "the url holds user info" };
  }
  const scheme = parsed.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  for (const name of [scheme, scheme.toLowerCase(), "ALL_PROXY", "all_proxy"]) {
    let value: string | undefined;
    try {
      value = env(name);
    } catch {
      return {
        mode: "fetch",
        reason: `${name} cannot be read (Deno's fetch would use it): grant --allow-env=${name}`,
      };
    }
    if (value && !bypassesProxy(parsed, env)) {
      return { mode: "fetch", reason: `${name} is set: the proxy is reached through fetch` };
    }
  }
  return caCerts === undefined ? { mode: "native" } : { mode: "native", caCerts };
}

/** Whether `NO_PROXY` exempts the URL's host (`*`, a name or domain suffix, an optional port). */
function bypassesProxy(url: URL, env: EnvReader): boolean {
  let list: string | undefined;
  try {
    list = env("NO_PROXY") ?? env("no_proxy");
  } catch {
    return false;
  }
  if (!list) return false;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of list.split(/[\s,]+/)) {
    const entry = raw.toLowerCase();
    if (entry === "*") return true;
    if (entry === "") continue;
    const [name, entryPort] = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** A `NO_PROXY` entry as host (without `*.`/`.` prefix or brackets) and optional port. */
function splitEntry(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2]];
  const colons = entry.split(":").length - 1;
  const [name, port] = colons === 1 ? entry.split(":") as [string, string] : [entry, undefined];
  return [name.replace(/^\*?\./, ""), port];
}
