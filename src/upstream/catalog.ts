/**
 * The merged catalog: every upstream's tools, prompts, resources and resource templates as
 * clients see them, in server order then upstream order, with lookup tables back to
 * (server, original name). Routing never splits a name on `__`.
 *
 * Names: tools and prompts are `<server>__<name>` (client-safe, see names.ts). Resource URIs
 * and templates are `<prefix>+<original>`, where the prefix is the server name reduced to URI
 * scheme characters; an original URI that only one server listed, or that only one server's
 * templates produce, also finds its server. A server with `prefix: false` (or
 * `namespacing: never`) keeps its names and URIs verbatim.
 */
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { scopeMatcher } from "../mcp/glob.ts";
import { exposedName } from "../mcp/names.ts";

/** One upstream's contribution. */
export interface CatalogSource {
  server: string;
  /** Whether names and URIs get the server prefix. */
  prefixed: boolean;
  tools: readonly JsonObject[];
  prompts: readonly JsonObject[];
  resources: readonly JsonObject[];
  templates: readonly JsonObject[];
  /** Which of the server's tools to show, and how (`servers[].tools` in the config). */
  rules?: ToolRules;
}

/** Include/exclude globs over a server's own tool names, and per-tool overrides. */
export interface ToolRules {
  include: readonly string[];
  exclude: readonly string[];
  overrides: Readonly<
    Record<
      string,
      {
        name?: string | undefined;
        description?: string | undefined;
        annotations?: Record<string, unknown> | undefined;
      }
    >
  >;
}

/** Where an exposed item lives: its server and its name (or URI) there. */
export interface Route {
  server: string;
  name: string;
}

/** The exposed names and URIs of one server's items, for scope checks per server. */
export interface ServerItems {
  tools: string[];
  prompts: string[];
  resources: string[];
  templates: string[];
}

/** A name two items would both take; the later one is left out. */
export interface NameConflict {
  kind: "tool" | "prompt" | "resource";
  exposed: string;
  kept: Route;
  dropped: Route;
}

const EMPTY: CatalogSource[] = [];

/** An immutable snapshot of the merged catalog. */
export class Catalog {
  readonly tools: readonly JsonObject[];
  readonly prompts: readonly JsonObject[];
  readonly resources: readonly JsonObject[];
  readonly templates: readonly JsonObject[];
  readonly conflicts: readonly NameConflict[];
  readonly #tools = new Map<string, Route>();
  readonly #toolItems = new Map<string, JsonObject>();
  readonly #prompts = new Map<string, Route>();
  readonly #resources = new Map<string, Route>();
  readonly #originals = new Map<string, Route | null>();
  readonly #prefixes = new Map<string, string>();
  readonly #templates: Array<{ server: string; prefixed: boolean; templates: RegExp[] }> = [];
  readonly #items = new Map<string, ServerItems>();

  constructor(sources: readonly CatalogSource[] = EMPTY) {
    const conflicts: NameConflict[] = [];
    const tools: JsonObject[] = [];
    const prompts: JsonObject[] = [];
    const resources: JsonObject[] = [];
    const templates: JsonObject[] = [];
    const used = new Set<string>();
    for (const source of sources) {
      const prefix = source.prefixed ? uriPrefix(source.server, used) : undefined;
      if (prefix !== undefined) this.#prefixes.set(source.server, prefix);
      this.#templates.push({
        server: source.server,
        prefixed: prefix !== undefined,
        templates: source.templates.flatMap((t) =>
          typeof t.uriTemplate === "string" ? [templateRegExp(t.uriTemplate)] : []
        ),
      });
      const items: ServerItems = { tools: [], prompts: [], resources: [], templates: [] };
      this.#items.set(source.server, items);
      const add = (
        kind: "tool" | "prompt",
        table: Map<string, Route>,
        out: JsonObject[],
        item: JsonObject,
        name = item.name as string,
      ) => {
        const exposed = exposedName(source.server, item.name as string, source.prefixed);
        const route = { server: source.server, name };
        const kept = table.get(exposed);
        if (kept) return conflicts.push({ kind, exposed, kept, dropped: route });
        table.set(exposed, route);
        const shown = describe(item, exposed, source);
        if (kind === "tool") this.#toolItems.set(exposed, shown);
        items[`${kind}s`].push(exposed);
        out.push(shown);
      };
      const shown = source.rules
        ? scopeMatcher({ allow: source.rules.include, deny: source.rules.exclude })
        : () => true;
      for (const tool of source.tools) {
        const name = tool.name as string;
        if (!shown(name)) continue;
        const override = source.rules?.overrides[name];
        add("tool", this.#tools, tools, override ? overridden(tool, override) : tool, name);
      }
      for (const prompt of source.prompts) {
        if (typeof prompt.name === "string") add("prompt", this.#prompts, prompts, prompt);
      }
      for (const resource of source.resources) {
        if (typeof resource.uri !== "string") continue;
        const exposed = prefix === undefined ? resource.uri : `${prefix}+${resource.uri}`;
        const route = { server: source.server, name: resource.uri };
        const kept = this.#resources.get(exposed);
        if (kept) {
          conflicts.push({ kind: "resource", exposed, kept, dropped: route });
          continue;
        }
        this.#resources.set(exposed, route);
        this.#originals.set(resource.uri, this.#originals.has(resource.uri) ? null : route);
        items.resources.push(exposed);
        resources.push({ ...resource, uri: exposed });
      }
      for (const template of source.templates) {
        if (typeof template.uriTemplate !== "string") continue;
        const exposed = prefix === undefined
          ? template.uriTemplate
          : `${prefix}+${template.uriTemplate}`;
        items.templates.push(exposed);
        templates.push(prefix === undefined ? template : { ...template, uriTemplate: exposed });
      }
    }
    this.tools = tools;
    this.prompts = prompts;
    this.resources = resources;
    this.templates = templates;
    this.conflicts = conflicts;
  }

  /** The number of tools. */
  get size(): number {
    return this.tools.length;
  }

  /** Finds the upstream of an exposed tool name. */
  tool(exposed: string): Route | undefined {
    return this.#tools.get(exposed);
  }

  /** The tool as clients see it (annotations included), by exposed name. */
  toolInfo(exposed: string): JsonObject | undefined {
    return this.#toolItems.get(exposed);
  }

  /** Finds the upstream of an exposed prompt name. */
  prompt(exposed: string): Route | undefined {
    return this.#prompts.get(exposed);
  }

  /**
   * Finds the upstream of a resource URI (or resource template) as a client wrote it: a listed
   * resource, a `<prefix>+` URI, an original URI only one server listed, a URI that the templates
   * of only one server without prefix produce, then one that those of only one server produce.
   * The caller checks scopes on {@link exposeUri} of the route, however the URI was written.
   */
  resource(uri: string): Route | undefined {
    const listed = this.#resources.get(uri);
    if (listed) return listed;
    for (const [server, prefix] of this.#prefixes) {
      if (uri.startsWith(`${prefix}+`)) return { server, name: uri.slice(prefix.length + 1) };
    }
    // An original URI that two servers listed is ambiguous, whatever their templates say.
    const original = this.#originals.get(uri);
    if (original !== undefined) return original ?? undefined;
    // Verbatim URIs first: a server without prefix exposes its template instances as they are.
    for (const prefixed of [false, true]) {
      const producers = this.#templates.filter((s) =>
        s.prefixed === prefixed && s.templates.some((re) => re.test(uri))
      );
      if (producers.length > 0) {
        return producers.length === 1 ? { server: producers[0]!.server, name: uri } : undefined;
      }
    }
    const unprefixed = this.#templates.filter((s) => !s.prefixed);
    return unprefixed.length === 1 ? { server: unprefixed[0]!.server, name: uri } : undefined;
  }

  /** The exposed names and URIs of a server's items (empty for an unknown server). */
  itemsOf(server: string): ServerItems {
    return this.#items.get(server) ?? { tools: [], prompts: [], resources: [], templates: [] };
  }

  /** The URI a client sees for a server's original URI. */
  exposeUri(server: string, uri: string): string {
    const prefix = this.#prefixes.get(server);
    return prefix === undefined ? uri : `${prefix}+${uri}`;
  }

  /** The servers whose prompts, resources or completions exist, for capability checks. */
  has(kind: "prompts" | "resources"): boolean {
    return kind === "prompts"
      ? this.prompts.length > 0
      : this.resources.length + this.templates.length > 0;
  }
}

/** A tool with the operator's overrides: another name, description or annotations. */
function overridden(tool: JsonObject, override: ToolRules["overrides"][string]): JsonObject {
  const out: JsonObject = { ...tool };
  if (override.name !== undefined) out.name = override.name;
  if (override.description !== undefined) out.description = override.description;
  if (override.annotations !== undefined) {
    out.annotations = {
      ...(isJsonObject(tool.annotations) ? tool.annotations : {}),
      ...(override.annotations as JsonObject),
    };
  }
  return out;
}

/** A copy of an upstream tool or prompt as clients see it; every other field passes through. */
function describe(item: JsonObject, exposed: string, source: CatalogSource): JsonObject {
  const description = typeof item.description === "string" ? item.description : undefined;
  const kind = "inputSchema" in item ? "Tool" : "Prompt";
  return {
    ...item,
    name: exposed,
    description: description === undefined
      ? `${kind} from ${source.server}`
      : source.prefixed
      ? `[${source.server}] ${description}`
      : description,
  };
}

/** A URI scheme prefix for a server: scheme characters only, starting with a letter, unique. */
function uriPrefix(server: string, used: Set<string>): string {
  let prefix = server.replace(/[^A-Za-z0-9.-]/g, "-");
  if (!/^[A-Za-z]/.test(prefix)) prefix = `s${prefix}`;
  let candidate = prefix;
  for (let n = 2; used.has(candidate); n++) candidate = `${prefix}${n}`;
  used.add(candidate);
  return candidate;
}

/** A regular expression matching the URIs an RFC 6570 template can produce (any expansion). */
function templateRegExp(template: string): RegExp {
  const pattern = template.split(/\{[^}]*\}/).map((part) =>
    part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join(".+?");
  return new RegExp(`^${pattern}$`);
}

/** One page of a list and the cursor of the next. */
export interface Page<T> {
  /** The items; the caller must not modify them (the whole list is passed without a copy). */
  items: T[];
  nextCursor?: string;
}

/** Thrown for a cursor the gateway did not issue. */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}

/** Cuts a page out of a list; cursors are opaque to clients (spec: pagination). */
export function paginate<T>(items: readonly T[], cursor: unknown, size: number): Page<T> {
  let offset = 0;
  if (cursor !== undefined && cursor !== null) {
    const match = typeof cursor === "string" ? /^o(\d{1,9})$/.exec(safeAtob(cursor)) : null;
    if (!match) throw new InvalidCursorError(`Invalid cursor: ${JSON.stringify(cursor)}`);
    offset = Number(match[1]);
  }
  const end = offset + size;
  const page: Page<T> = {
    items: offset === 0 && end >= items.length ? items as T[] : items.slice(offset, end),
  };
  if (end < items.length) page.nextCursor = btoa(`o${end}`);
  return page;
}

function safeAtob(text: string): string {
  try {
    return atob(text);
  } catch {
    return "";
  }
}
