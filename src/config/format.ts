/** Text helpers shared by config messages: quoted values and printable config paths. */

const MAX_QUOTED = 60;

/** Quotes a value for a message, as 'value', escaping control characters and cutting long text. */
export function quote(value: unknown): string {
  const text = String(value).replace(/\p{Cc}/gu, escapeControl);
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 3)}...` : text;
  return `'${cut}'`;
}

/** Quotes a file path like {@link quote} but whole: a cut path names no file anyone can open. */
export function quotePath(path: string): string {
  return `'${path.replace(/\p{Cc}/gu, escapeControl)}'`;
}

/** Formats a config path the way messages print it, e.g. `servers[0].headers.X-API-Key`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function escapeControl(char: string): string {
  if (char === "\n") return "\\n";
  if (char === "\r") return "\\r";
  if (char === "\t") return "\\t";
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
