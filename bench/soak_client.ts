/**
 * The soak test's MCP client (on `fetch`, with a deadline on every request, so a hung call is
 * an error and never a stall) and the rule that tells a restart's expected errors from others.
 *
 * @module
 */
import { initializeParams } from "./raw_mcp_session.ts";

/** One upstream kill and when calls to it worked again (seconds since the start). */
export interface Kill {
  server: string;
  at: number;
  recoveredAt?: number;
}

/** One failed operation. */
export interface OpError {
  /** Seconds since the start. */
  t: number;
  op: string;
  /** The upstream the operation went to (`gateway` for lists, pings, sessions). */
  server: string;
  detail: string;
  /** The gateway's `data.reason` (e.g. `upstream_disconnected`), when it gave one. */
  reason?: string;
}

/** What one request came to. */
export interface Outcome {
  ok: boolean;
  detail: string;
  reason?: string;
}

/** Seconds after recovery during which a restart may still explain an error. */
export const GRACE_S = 2;
const DEADLINE_MS = 15_000;

/** Restart errors: the gateway's own answers about the upstream that was down. */
const RESTART_REASONS = new Set([
  "upstream_unreachable",
  "upstream_disconnected",
  "upstream_closed",
  "upstream_circuit_open",
  "upstream_cancelled",
  "upstream_unavailable",
]);

/**
 * Whether an error is explained by a restart: a JSON-RPC error about the killed upstream (a
 * restart reason, or "Unknown tool" while its tools were out of the catalog), between its kill
 * and shortly after its first successful call again.
 */
export function classify(error: OpError, kills: readonly Kill[]): boolean {
  if (!isRestartError(error)) return false;
  return kills.some((kill) =>
    kill.server === error.server && error.t >= kill.at &&
    error.t <= (kill.recoveredAt ?? Infinity) + GRACE_S
  );
}

/**
 * When an upstream was back after a kill: the start of the first successful call to it that
 * began after the first restart error the kill caused (or after the kill, if no call failed).
 * Undefined when no call succeeded afterwards.
 */
export function recoveredAt(
  kill: Kill,
  errors: readonly OpError[],
  okStarts: readonly number[],
): number | undefined {
  const firstError = errors.find((e) =>
    e.server === kill.server && e.t >= kill.at && isRestartError(e)
  );
  const from = firstError?.t ?? kill.at;
  let first: number | undefined;
  for (const t of okStarts) if (t > from && (first === undefined || t < first)) first = t;
  return first;
}

function isRestartError(error: OpError): boolean {
  return (error.reason !== undefined && RESTART_REASONS.has(error.reason)) ||
    /Unknown tool: '[a-z]__/.test(error.detail);
}

/** One session on the gateway. */
export class SoakSession {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  #nextId = 1;

  private constructor(url: string, headers: Record<string, string>) {
    this.#url = url;
    this.#headers = headers;
  }

  /** initialize + notifications/initialized; throws when either fails. */
  static async open(url: string): Promise<SoakSession> {
    const base = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    };
    const res = await fetch(url, {
      method: "POST",
      headers: base,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: initializeParams("soak"),
      }),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    const text = await res.text();
    const id = res.headers.get("mcp-session-id");
    if (res.status !== 200 || id === null) {
      throw new Error(`initialize: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    const session = new SoakSession(url, {
      ...base,
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-11-25",
    });
    const done = await fetch(url, {
      method: "POST",
      headers: session.#headers,
      body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    await done.body?.cancel();
    if (done.status !== 202) throw new Error(`notifications/initialized: HTTP ${done.status}`);
    return session;
  }

  /** Sends a request; checks the HTTP status, the id and the result's shape. */
  async request(method: string, params: Record<string, unknown>): Promise<Outcome> {
    const id = this.#nextId++;
    let status = 0;
    let text = "";
    try {
      const res = await fetch(this.#url, {
        method: "POST",
        headers: this.#headers,
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(DEADLINE_MS),
      });
      status = res.status;
      text = await res.text();
      if (res.headers.get("content-type")?.includes("text/event-stream")) {
        text = text.split(/\r?\n/).filter((l) =>
          l.startsWith("data:")
        ).map((l) => l.slice(5).trim())
          .find((d) => d.includes(`"id":${id}`)) ?? "";
      }
    } catch (error) {
      const hung = error instanceof DOMException && error.name === "TimeoutError";
      return {
        ok: false,
        detail: hung ? `no answer within ${DEADLINE_MS} ms` : String(error),
        reason: hung ? "client_timeout" : "client_network",
      };
    }
    if (status !== 200) {
      return {
        ok: false,
        detail: `HTTP ${status}: ${text.slice(0, 200)}`,
        reason: `http_${status}`,
      };
    }
    let message: {
      id?: unknown;
      result?: Record<string, unknown>;
      error?: { message?: string; data?: { reason?: string } };
    };
    try {
      message = JSON.parse(text);
    } catch {
      return { ok: false, detail: `not JSON: ${text.slice(0, 200)}`, reason: "bad_json" };
    }
    if (message.id !== id) {
      return {
        ok: false,
        detail: `answer for id ${JSON.stringify(message.id)}, expected ${id}`,
        reason: "wrong_id",
      };
    }
    if (message.error) {
      const reason = message.error.data?.reason;
      return { ok: false, detail: message.error.message ?? "error", ...(reason ? { reason } : {}) };
    }
    const result = message.result ?? {};
    const fine = method === "tools/call"
      ? JSON.stringify(result.content) === '[{"type":"text","text":"ok"}]'
      : method === "tools/list"
      ? Array.isArray(result.tools) && result.tools.length > 0
      : true;
    return fine
      ? { ok: true, detail: "" }
      : { ok: false, detail: `unexpected result ${text.slice(0, 200)}`, reason: "bad_result" };
  }

  /** Ends the session with DELETE (best effort). */
  async close(): Promise<void> {
    try {
      const res = await fetch(this.#url, {
        method: "DELETE",
        headers: this.#headers,
        signal: AbortSignal.timeout(DEADLINE_MS),
      });
      await res.body?.cancel();
    } catch {
      // The gateway answers DELETE even while upstreams are down; a failure shows in later calls.
    }
  }
}
