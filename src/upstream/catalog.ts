/**
 * The merged tool catalog: every connected upstream's tools under client-safe exposed names,
 * in server order then upstream order, with a lookup table back to (server, original name).
 * Routing never splits a name on `__`, so a server called `a_` cannot be confused with `a`.
 */
import type { JsonObject } from "../mcp/jsonrpc.ts";
import { exposedName } from "../mcp/names.ts";

/** One upstream's contribution to the catalog. */
export interface CatalogSource {
  server: string;
  /** Whether names get the `<server>__` prefix. */
  prefixed: boolean;
  tools: readonly JsonObject[];
}

/** Where an exposed tool lives. */
export interface ToolRoute {
  server: string;
  /** The tool's name at the upstream. */
  name: string;
}

/** A name that two upstream tools would both take; the later one is left out. */
export interface NameConflict {
  exposed: string;
  kept: ToolRoute;
  dropped: ToolRoute;
}

/** An immutable snapshot of the merged catalog. */
export class ToolCatalog {
  /** The tools as clients see them, in order. */
  readonly tools: readonly JsonObject[];
  /** Names two tools competed for. */
  readonly conflicts: readonly NameConflict[];
  readonly #routes: Map<string, ToolRoute>;

  constructor(sources: readonly CatalogSource[]) {
    const tools: JsonObject[] = [];
    const conflicts: NameConflict[] = [];
    this.#routes = new Map();
    for (const source of sources) {
      for (const tool of source.tools) {
        const name = tool.name as string;
        const exposed = exposedName(source.server, name, source.prefixed);
        const route = { server: source.server, name };
        const existing = this.#routes.get(exposed);
        if (existing) {
          conflicts.push({ exposed, kept: existing, dropped: route });
          continue;
        }
        this.#routes.set(exposed, route);
        tools.push(exposeTool(tool, exposed, source));
      }
    }
    this.tools = tools;
    this.conflicts = conflicts;
  }

  /** Finds the upstream of an exposed name. */
  route(exposed: string): ToolRoute | undefined {
    return this.#routes.get(exposed);
  }

  /** The number of tools. */
  get size(): number {
    return this.tools.length;
  }
}

/** A copy of an upstream tool as clients see it; every other field passes through unchanged. */
function exposeTool(tool: JsonObject, exposed: string, source: CatalogSource): JsonObject {
  const description = typeof tool.description === "string" ? tool.description : undefined;
  return {
    ...tool,
    name: exposed,
    description: source.prefixed
      ? description === undefined
        ? `Tool from ${source.server}`
        : `[${source.server}] ${description}`
      : description ?? `Tool from ${source.server}`,
  };
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
