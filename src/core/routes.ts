/**
 * Where an exposed name or URI goes, for one caller: the route of a tool, prompt or resource it
 * may use (anything outside its scopes looks exactly like an unknown name), and the lists as it
 * may see them.
 */
import type { Identity } from "../http/auth.ts";
import { invalidParams, McpError } from "../mcp/errors.ts";
import { ErrorCode, type JsonObject } from "../mcp/jsonrpc.ts";
import type { Catalog, Route } from "../upstream/catalog.ts";
import type { UpstreamDirectory } from "./context.ts";
import { scopeOf } from "./scopes.ts";

/** A resource a caller may read: its route and the URI clients see for it. */
export interface ResourceRoute {
  route: Route;
  exposed: string;
}

/** Route lookups over the current catalog. */
export class Routes {
  readonly #upstreams: UpstreamDirectory;

  constructor(upstreams: UpstreamDirectory) {
    this.#upstreams = upstreams;
  }

  /** The current catalog. */
  get catalog(): Catalog {
    return this.#upstreams.catalog();
  }

  /** The route of a tool or prompt `identity` may use. */
  allowed(
    kind: "tools" | "prompts",
    name: string,
    identity: Identity | undefined,
  ): Route | undefined {
    if (scopeOf(identity)?.[kind](name) === false) return undefined;
    return kind === "tools" ? this.catalog.tool(name) : this.catalog.prompt(name);
  }

  /**
   * The route of a resource the client may read, and its exposed URI: the scope is checked on
   * the exposed form, however the client wrote the URI (an upstream's own URI finds its server).
   */
  resource(uri: unknown, identity: Identity | undefined): ResourceRoute {
    if (typeof uri !== "string") throw invalidParams("params.uri (a string) is required");
    const catalog = this.catalog;
    const route = catalog.resource(uri);
    if (route) {
      const exposed = catalog.exposeUri(route.server, route.name);
      if (scopeOf(identity)?.resources(exposed) !== false) return { route, exposed };
    }
    throw new McpError(ErrorCode.ResourceNotFound, `Resource not found: '${uri}'`, { uri });
  }

  /** A list as one client may see it. */
  visible(
    kind: "tools" | "prompts" | "resources",
    key: "name" | "uri" | "uriTemplate",
    items: readonly JsonObject[],
    identity: Identity | undefined,
  ): readonly JsonObject[] {
    const scope = scopeOf(identity);
    return scope ? items.filter((item) => scope[kind](item[key] as string)) : items;
  }

  /** Whether any upstream declared a server capability. */
  offered(capability: string): boolean {
    return this.#upstreams.supervisors().some((s) => s.capabilities[capability] !== undefined);
  }

  /** Throws -32601 for a method whose capability no upstream declared. */
  requireOffered(capability: string, method: string): void {
    if (!this.offered(capability)) {
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: '${method}'`);
    }
  }

  /** The era of the upstream a `tools/call`, `prompts/get` or `resources/read` goes to. */
  upstreamEra(method: string, params: JsonObject): "legacy" | "modern" | undefined {
    const catalog = this.catalog;
    const route = method === "tools/call" && typeof params.name === "string"
      ? catalog.tool(params.name)
      : method === "prompts/get" && typeof params.name === "string"
      ? catalog.prompt(params.name)
      : method === "resources/read" && typeof params.uri === "string"
      ? catalog.resource(params.uri)
      : undefined;
    return route === undefined ? undefined : this.#upstreams.supervisor(route.server)?.client?.era;
  }
}
