/**
 * What the downstream server makes of a request head (RFC 9112 §3, §6): method, the path of
 * the request target (never the `Host` header), how the body is delimited, whether the
 * connection stays open. Anything two parsers could read differently is refused.
 */
import { isHeaderName } from "../config/net.ts";
import { HttpWireError, parseHead, quoteBytes } from "./http1.ts";
import { contentLengthOf } from "./http1_body.ts";
import { hostOfHeader } from "./origin.ts";

/** A request head the server accepted. */
export interface RequestHead {
  method: string;
  /** Path and query of the request target (`/mcp?x=1`), from origin-form or absolute-form. */
  path: string;
  /** Field names, lowercased. */
  names: string[];
  /** Field values, in the order of `names`. */
  values: string[];
  /** The body's length, or "chunked". */
  body: number | "chunked";
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** An HTTP/1.0 request: no chunked coding in the answer. */
  http10: boolean;
  /** The client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
}

const TARGET = /^[\x21-\x22\x24-\x7e]+$/;
const ABSOLUTE = /^https?:\/\/[^/?]*/i;

/** Parses and checks a request head from `ByteReader.readHead`. */
export function parseRequestHead(text: string): RequestHead {
  const { startLine, names, values } = parseHead(text);
  const space = startLine.indexOf(" ");
  const last = startLine.lastIndexOf(" ");
  const method = startLine.slice(0, space);
  const target = startLine.slice(space + 1, last);
  const version = startLine.slice(last + 1);
  if (space <= 0 || last === space || target.includes(" ") || !isHeaderName(method)) {
    throw new HttpWireError(400, `Cannot parse the request line ${quoteBytes(startLine)}`);
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw /^HTTP\/\d\.\d$/.test(version)
      ? new HttpWireError(505, `HTTP Version Not Supported: ${version}; use HTTP/1.1`)
      : new HttpWireError(400, `Cannot parse the request line ${quoteBytes(startLine)}`);
  }
  const http10 = version === "HTTP/1.0";
  const head: RequestHead = {
    method,
    path: pathOf(method, target),
    names,
    values,
    body: 0,
    keepAlive: !http10,
    http10,
    expectContinue: false,
  };
  let hosts = 0;
  let lengths: string[] | undefined;
  let coding: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const value = values[i]!;
    switch (names[i]) {
      case "host":
        hosts++;
        if (hostOfHeader(value) === undefined) {
          throw new HttpWireError(
            400,
            `Bad Request: Host ${
              quoteBytes(value)
            } is not a host name or address with an optional port`,
          );
        }
        break;
      case "content-length":
        (lengths ??= []).push(value);
        break;
      case "transfer-encoding":
        coding = coding === undefined ? value : `${coding}, ${value}`;
        break;
      case "connection":
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) head.keepAlive = false;
        break;
      case "expect":
        if (value.toLowerCase() !== "100-continue") {
          throw new HttpWireError(417, `Expectation Failed: ${quoteBytes(value)}`);
        }
        head.expectContinue = !http10;
        break;
    }
  }
  if (hosts > 1 || (hosts === 0 && !http10)) {
    throw new HttpWireError(
      400,
      `Bad Request: ${hosts === 0 ? "no" : "more than one"} Host header`,
    );
  }
  if (coding !== undefined) {
    if (lengths !== undefined) {
      throw new HttpWireError(400, "Bad Request: both Content-Length and Transfer-Encoding");
    }
    if (http10) {
      throw new HttpWireError(400, "Bad Request: Transfer-Encoding in an HTTP/1.0 request");
    }
    if (coding.toLowerCase() !== "chunked") {
      throw new HttpWireError(
        501,
        `Not Implemented: Transfer-Encoding ${quoteBytes(coding)}; send Content-Length or chunked`,
      );
    }
    head.body = "chunked";
  } else if (lengths !== undefined) {
    head.body = contentLengthOf(lengths)!;
  }
  return head;
}

/** The path and query of a request target; asterisk-form and authority-form are refused. */
function pathOf(method: string, target: string): string {
  if (target.charCodeAt(0) === 47 /* / */) {
    if (TARGET.test(target)) return target;
  } else if (method === "CONNECT") {
    throw new HttpWireError(501, "Not Implemented: CONNECT");
  } else {
    const authority = ABSOLUTE.exec(target);
    if (authority !== null && TARGET.test(target)) {
      const rest = target.slice(authority[0].length);
      return rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
    }
  }
  throw new HttpWireError(400, `Bad Request: request target ${quoteBytes(target)}`);
}
