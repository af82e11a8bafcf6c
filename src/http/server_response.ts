/**
 * How the downstream server puts a `Response` on the wire: status line and fields in latin1,
 * `Content-Length` for bodies that are complete, the chunked coding for event streams (each
 * chunk written as soon as it is produced), no body for HEAD, 204 and 304.
 */
import { writeLatin1 } from "./http1.ts";
import type { PreparedAnswer } from "./prepared.ts";

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** Fields the server writes itself; a handler's own values for them are dropped. */
const OWN_FIELDS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

const encoder = new TextEncoder();

/** A response's status line and fields (without the final empty line), and its kind. */
export interface ResponseHead {
  text: string;
  /** An event stream, written chunk by chunk as it is produced. */
  stream: boolean;
}

/** The head of `res`; `close` adds `Connection: close`. */
export function responseHead(res: Response, date: string, close: boolean): ResponseHead {
  const status = res.status;
  const head = {
    text: `HTTP/1.1 ${status} ${REASONS[status] ?? res.statusText}\r\n`,
    stream: false,
  };
  let dated = false;
  // forEach, not for-of: Deno's header iterator costs five times as much.
  res.headers.forEach((value, name) => {
    if (OWN_FIELDS.has(name)) return;
    if (name === "date") dated = true;
    else if (name === "content-type") head.stream = value.startsWith("text/event-stream");
    head.text += `${name}: ${value}\r\n`;
  });
  if (!dated) head.text += `date: ${date}\r\n`;
  if (close) head.text += "connection: close\r\n";
  return head;
}

/** The head of a prepared JSON answer (without its length and the final empty line). */
export function preparedHead(answer: PreparedAnswer, date: string, close: boolean): string {
  const status = answer.status;
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n${answer.fields}date: ${date}\r\n${
    close ? "connection: close\r\n" : ""
  }`;
}

/** A complete response with a plain-text body, for refusals the server makes itself. */
export function plainResponse(status: number, text: string, date: string): Uint8Array {
  const body = encoder.encode(`${text}\n`);
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ncontent-type: text/plain; ` +
    `charset=utf-8\r\ncontent-length: ${body.length}\r\ndate: ${date}\r\nconnection: close\r\n\r\n`;
  const out = new Uint8Array(head.length + body.length);
  writeLatin1(head, out, 0);
  out.set(body, head.length);
  return out;
}

/** Whether a response to `method` with `status` carries no body (RFC 9110 §6.4.1). */
export function hasNoBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || status < 200;
}

/** One chunk of the chunked coding around `data`. */
export function chunkOf(data: Uint8Array): Uint8Array {
  const size = `${data.length.toString(16)}\r\n`;
  const out = new Uint8Array(size.length + data.length + 2);
  writeLatin1(size, out, 0);
  out.set(data, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** The end of a chunked body (no trailer fields). */
export const LAST_CHUNK: Uint8Array = encoder.encode("0\r\n\r\n");
/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE: Uint8Array = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");
