/**
 * Forwarding between replicas: a request that needs a caller's own upstream instance (or a
 * 2026-07-28 flow) held by another replica is sent there over HTTP, to the replica's advertised
 * `/mcp`, with the client's own headers (its credentials are checked again there) and a proof
 * that a replica sent it: an HMAC, under a key derived from the secret the replicas share in the
 * store, of the time, the sending replica, the caller and the body. The receiving replica serves
 * a proven request itself (it never forwards again) and counts it against the caller the proof
 * names; anyone else sending the header gets 403.
 *
 * When the holder cannot be reached (it died), this replica takes the caller over, and the
 * request that was lost gets a clear error; the caller's next request starts a new instance here.
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { UpstreamDirectory } from "../core/context.ts";
import type { Logger } from "../log.ts";
import { ErrorCode, isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { rpcErrorResponse } from "../downstream/answer.ts";
import { isRequestKey, wireId } from "../downstream/request_ids.ts";
import { FORWARDED_HEADER } from "../downstream/mcp_endpoint.ts";
import type { Clock } from "../upstream/clock.ts";
import type { Cluster } from "./cluster.ts";
import { instanceServer, Owners } from "./owners.ts";

/** How old a proof may be (replicas' clocks may differ a little). */
const PROOF_MAX_AGE_MS = 30_000;
/** How often claims on callers served here are renewed. */
const RENEW_MS = 10_000;
/** Answer headers passed back to the client. */
const ANSWER_HEADERS = ["content-type", "mcp-session-id", "retry-after"];

/** What a valid proof says. */
export interface ForwardProof {
  /** The caller the sending replica counted the request against (a 2026-07-28 principal). */
  principal: string;
}

/** Options of {@link Forwarder}. */
export interface ForwarderOptions {
  cluster: Cluster;
  upstreams: UpstreamDirectory;
  /** How long a claim on a caller lasts without use. */
  ownerTtlMs: number;
  /** The replica named in a requestState this cluster sealed (undefined for anything else). */
  nodeOf(state: unknown): string | undefined;
  log: Logger;
}

/** Forwards requests to the replicas holding what they need. */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #cluster: Cluster;
  readonly #owners: Owners;
  #key: Uint8Array | undefined;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#cluster = options.cluster;
    // A caller taken over elsewhere has its instance there now: this replica's copy goes.
    this.#owners = new Owners(options.cluster, options.ownerTtlMs, (key) => {
      for (const supervisor of options.upstreams.supervisors()) {
        supervisor.releaseSession(key).catch(() => {});
      }
    });
    options.cluster.onKeys((keys) => (this.#key = keys.forward));
  }

  /**
   * Sends a message of `key` (a session id or a principal) to the replica holding its upstream
   * instances, when it needs one and another replica holds it; undefined when this replica
   * serves it. A forwarded request is always served where it arrives.
   */
  instance(
    key: string,
    message: JsonObject,
    text: string,
    req: Request,
    principal = "",
  ): Promise<Response | undefined> | undefined {
    if (req.headers.has(FORWARDED_HEADER)) return undefined;
    if (typeof message.method !== "string") return undefined;
    const server = instanceServer(this.#options.upstreams, message.method, message.params);
    if (server === undefined) return undefined;
    const owner = this.#owners.ownerOf(key);
    if (owner === this.#cluster.node) return undefined;
    return this.#toOwner(key, owner, server, message, text, req, principal);
  }

  /**
   * Sends a 2026-07-28 request to the replica that holds its flow (named in its sealed
   * requestState) or its caller's upstream instance; undefined when this replica serves it.
   */
  modern(
    message: JsonObject,
    text: string,
    req: Request,
    principal: string,
  ): Promise<Response | undefined> | undefined {
    if (req.headers.has(FORWARDED_HEADER)) return undefined;
    const node = this.#options.nodeOf(requestStateOf(message.params));
    if (node !== undefined && node !== this.#cluster.node) {
      return this.toNode(node, message, text, req, principal);
    }
    return this.instance(principal, message, text, req, principal);
  }

  /** Sends a request to `node` (the replica holding its flow), or refuses it when that is gone. */
  async toNode(
    node: string,
    message: JsonObject,
    text: string,
    req: Request,
    principal: string,
  ): Promise<Response> {
    const response = await this.#send(node, text, req, principal);
    if (response) return response;
    return this.#refuse(
      message,
      ErrorCode.InvalidParams,
      `Invalid or expired requestState: the replica '${node}' holding this call is gone; ` +
        "send the request again without requestState",
    );
  }

  /** Keeps this replica's claims on the callers it serves, every few seconds until `signal` aborts. */
  async run(clock: Clock, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await clock.sleep(RENEW_MS, signal);
      } catch {
        return;
      }
      await this.#owners.renew().catch(() => {});
    }
  }

  /** Checks a proof header against the body; the proof's claims, or undefined when forged. */
  verify(header: string, text: string): ForwardProof | undefined {
    const [version, at, node, principal, mac] = header.split(".");
    if (version !== "v1" || mac === undefined || this.#key === undefined) return undefined;
    // Also refuses a time that is not a number (NaN compares false both ways).
    if (!(Math.abs(Date.now() - Number(at)) <= PROOF_MAX_AGE_MS)) return undefined;
    const wanted = Buffer.from(this.#mac(at!, node!, principal!, text), "base64url");
    const given = Buffer.from(mac, "base64url");
    if (given.byteLength !== wanted.byteLength || !timingSafeEqual(given, wanted)) return undefined;
    return { principal: Buffer.from(principal!, "base64url").toString("utf8") };
  }

  async #toOwner(
    key: string,
    known: string | Promise<string>,
    server: string,
    message: JsonObject,
    text: string,
    req: Request,
    principal: string,
  ): Promise<Response | undefined> {
    let owner = await known;
    if (owner === this.#cluster.node) return undefined;
    let response = await this.#send(owner, text, req, principal);
    if (response) return response;
    const successor = await this.#owners.takeOver(key, owner);
    if (successor !== this.#cluster.node) {
      // Another replica took over first (and told the client of the loss): the call goes there.
      response = await this.#send(successor, text, req, principal);
      if (response) return response;
      owner = successor;
      await this.#owners.takeOver(key, owner);
    }
    this.#options.log.warn("took over the upstream instances of a replica that is gone", {
      replica: owner,
      server,
    });
    return this.#refuse(
      message,
      ErrorCode.UpstreamError,
      `Cannot reach the upstream instance of '${server}' for this client: the replica '${owner}' ` +
        "that held it is gone, with what it had in flight; a new instance starts on the next " +
        "request (the old instance's state is lost)",
    );
  }

  /** Sends the request to `node`; undefined when it cannot be reached. */
  async #send(
    node: string,
    text: string,
    req: Request,
    principal: string,
  ): Promise<Response | undefined> {
    const replica = this.#cluster.replicas.get(node);
    if (!replica || this.#key === undefined) return undefined;
    const headers = new Headers();
    for (const [name, value] of req.headers) {
      if (name === "authorization" || name === "accept" || name.startsWith("mcp-")) {
        headers.set(name, value);
      }
    }
    headers.set("content-type", "application/json");
    headers.set(FORWARDED_HEADER, this.#proof(principal, text));
    let answer: Response;
    try {
      answer = await fetch(`${replica.url}/mcp`, { method: "POST", headers, body: text });
    } catch (error) {
      this.#cluster.forwarded("owner_gone");
      this.#options.log.debug("cannot reach a replica", { replica: node, error });
      return undefined;
    }
    this.#cluster.forwarded(answer.ok ? "ok" : "error");
    const out = new Headers();
    for (const name of ANSWER_HEADERS) {
      const value = answer.headers.get(name);
      if (value !== null) out.set(name, value);
    }
    return new Response(answer.body, { status: answer.status, headers: out });
  }

  #proof(principal: string, text: string): string {
    const at = String(Date.now());
    const who = Buffer.from(principal).toString("base64url");
    return `v1.${at}.${this.#cluster.node}.${who}.${this.#mac(at, this.#cluster.node, who, text)}`;
  }

  #mac(at: string, node: string, principal: string, text: string): string {
    const body = createHash("sha256").update(text).digest("base64url");
    return createHmac("sha256", this.#key!).update(`${at}.${node}.${principal}.${body}`)
      .digest("base64url");
  }

  #refuse(message: JsonObject, code: number, text: string): Response {
    const id = isRequestKey(message.id) ? wireId(message.id) : null;
    return rpcErrorResponse(200, id, code, text);
  }
}

/** The requestState of a 2026-07-28 retry, if `params` has one. */
function requestStateOf(params: unknown): unknown {
  return isJsonObject(params) ? params.requestState : undefined;
}
