/**
 * The `requestState` the gateway hands a 2026-07-28 client while it holds a legacy upstream's
 * call open (spec 2026-07-28: patterns/mrtr, server requirements). The client echoes it on its
 * retry; it is attacker-controlled, so it is sealed with HMAC-SHA256 and names the flow, who may
 * resume it (the principal), what request it belongs to, and when it expires.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/** What a sealed state says. */
export interface StateClaims {
  /** The flow the state resumes. */
  flow: string;
  /** The replica holding the flow (its node id), so a retry elsewhere can be sent there. */
  node: string;
  /** Who started the flow: only they may resume it. */
  principal: string;
  /** The method and the name (or URI) of the request the flow belongs to. */
  method: string;
  target: string;
  /** Expiry, in milliseconds since the epoch. */
  expires: number;
}

/** Why a state was refused. */
export class InvalidRequestStateError extends Error {
  override name = "InvalidRequestStateError";
}

const SEPARATOR = ".";

/** Mints and checks sealed request states with one secret key. */
export class RequestStateCodec {
  #key: Uint8Array;

  /** `key` is the HMAC secret: random per process, or shared by every replica of a cluster. */
  constructor(key: Uint8Array) {
    if (key.byteLength < 32) {
      throw new RangeError("Cannot seal request states: the key is shorter than 32 bytes");
    }
    this.#key = key;
  }

  /** Seals with `key` from now on (a cluster replica, once the replicas' shared key is known). */
  useKey(key: Uint8Array): void {
    this.#key = key;
  }

  /** A new random 32-byte key. */
  static randomKey(): Uint8Array {
    return crypto.getRandomValues(new Uint8Array(32));
  }

  /** Seals claims into an opaque string. */
  mint(claims: StateClaims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${payload}${SEPARATOR}${this.#sign(payload)}`;
  }

  /** The replica a state this gateway sealed names (checking only its seal); undefined otherwise. */
  nodeOf(state: unknown): string | undefined {
    try {
      return this.#open(state).node;
    } catch {
      return undefined;
    }
  }

  /**
   * Opens a state and checks it belongs to this request, caller and time; throws
   * {@link InvalidRequestStateError} with the reason otherwise.
   */
  verify(
    state: unknown,
    expected: { principal: string; method: string; target: string; now: number },
  ): StateClaims {
    const claims = this.#open(state);
    if (claims.expires <= expected.now) throw invalid("expired");
    if (claims.principal !== expected.principal) throw invalid("issued to another client");
    if (claims.method !== expected.method || claims.target !== expected.target) {
      throw invalid(`issued for another request (${claims.method} '${claims.target}')`);
    }
    return claims;
  }

  /** The claims of a state whose seal is this gateway's; throws when it is not. */
  #open(state: unknown): StateClaims {
    if (typeof state !== "string" || state.length > 4096) {
      throw invalid("not a state this gateway issued");
    }
    const dot = state.indexOf(SEPARATOR);
    const payload = state.slice(0, dot);
    const signature = Buffer.from(state.slice(dot + 1), "base64url");
    const wanted = Buffer.from(this.#sign(payload), "base64url");
    if (
      dot <= 0 || signature.byteLength !== wanted.byteLength || !timingSafeEqual(signature, wanted)
    ) {
      throw invalid("not a state this gateway issued");
    }
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as StateClaims;
  }

  #sign(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}

function invalid(reason: string): InvalidRequestStateError {
  return new InvalidRequestStateError(`Invalid or expired requestState: ${reason}`);
}
