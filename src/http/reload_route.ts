/**
 * `POST /-/reload`: reloads the config for an operator. A reload restarts upstreams and changes
 * who may do what, so it is harder to reach than a tool call: the Host/Origin guard, then
 * credentials of an admin (`admin: true` on a client or user, or the bearer token), and a
 * request no HTML form or simple cross-site fetch can send (`Content-Type: application/json`,
 * body `{}`), which a browser preflights.
 */
import { type AdmissionOptions, admit, readJsonBody, type Refuse } from "./admission.ts";
import type { Identity } from "./auth.ts";
import { type Handler, plain } from "./router.ts";

/** What the reload route needs, read per request so a reload applies at once. */
export interface ReloadRouteOptions {
  admission(): AdmissionOptions;
  /** Whether an authenticated identity may reload (unused when auth is off). */
  isAdmin(identity: Identity): boolean;
  /** Runs the reload: the answer, or the text of a 400 when the new config is refused. */
  reload(): Promise<Response>;
}

const BODY_LIMITS = {
  maxBodyBytes: 1024,
  bodyTimeoutMs: 5_000,
  maxJsonDepth: 2,
  maxJsonValues: 16,
};
const refusePlain: Refuse = (status, _code, message) => plain(status, message);

/** Builds the `POST /-/reload` handler. */
export function createReloadRoute(options: ReloadRouteOptions): Handler {
  return async (req) => {
    const admission = options.admission();
    const admitted = admit(req, admission, refusePlain);
    if (admitted instanceof Response) return await discard(req, admitted);
    const { identity } = admitted;
    if (admission.authenticate && identity && !options.isAdmin(identity)) {
      return await discard(
        req,
        plain(
          403,
          `Cannot reload: client '${identity.name}' is not an admin ` +
            "(set admin: true on it under mcp.auth.clients or mcp.auth.users)",
        ),
      );
    }
    if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
      return await discard(
        req,
        plain(415, "Cannot reload: send Content-Type: application/json and the body {}"),
      );
    }
    const read = await readJsonBody(req, BODY_LIMITS, refusePlain);
    if (read instanceof Response) return read;
    const body = read.value;
    if (
      typeof body !== "object" || body === null || Array.isArray(body) ||
      Object.keys(body).length > 0
    ) {
      return plain(400, "Cannot reload: the body must be the empty JSON object {}");
    }
    return await options.reload();
  };
}

/** Answers without reading the body (the connection may still be reused). */
async function discard(req: Request, res: Response): Promise<Response> {
  await req.body?.cancel();
  return res;
}
