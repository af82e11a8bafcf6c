/**
 * The text an upstream's result was parsed from, so a result the gateway relays unchanged is
 * written downstream as the bytes the upstream sent, with only the id replaced, instead of being
 * serialised again (DESIGN §6: one id rewrite spliced into the bytes).
 *
 * Every stage that changes a result (reserved `_meta` keys, exposed resource URIs, the 2026-07-28
 * decorations) makes a new object, so a result still identical to the one parsed carries its
 * source; results are never changed in place. The source is only used when it can be cut
 * exactly: the response must be one JSON object whose top-level keys have no escapes (so it has
 * the same members for us as for `JSON.parse`) with exactly one `result` member, an object. The
 * text already passed `JSON.parse`, so what is cut out is one complete JSON value: whatever it
 * holds, it cannot end the downstream message early or add an `id` to it. Keys repeated inside
 * the result pass as written; the gateway's checks read them as `JSON.parse` does (the last one
 * counts), and guard nothing an upstream could not also put in plain text.
 */
import type { JsonObject } from "./jsonrpc.ts";

/** A constructor that returns the object it is given, so a subclass can add a field to it. */
class Given {
  constructor(object: object) {
    return object;
  }
}

/**
 * The source of a result, kept as a private field on the result itself: a `WeakMap` entry per
 * result grew its table by hundreds of bytes per call. A private field is invisible to
 * `Object.keys`, spreads and `JSON.stringify`, so a copy of a result never carries it.
 */
class Sourced extends Given {
  readonly #source: string;

  constructor(result: JsonObject, source: string) {
    super(result);
    this.#source = source;
  }

  /** Gives `result` its source (once: a second would throw). */
  static keep(result: JsonObject, source: string): void {
    if (!(#source in result)) new Sourced(result, source);
  }

  /** The source of `result`, if it has one. */
  static of(result: JsonObject): string | undefined {
    return #source in result ? (result as unknown as Sourced).#source : undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Records that `result` is the `result` member `JSON.parse` read from the response text `message`. */
export function keepSource(result: JsonObject, message: string): void {
  Sourced.keep(result, message);
}

/** The JSON text of `result` as its upstream sent it, when it can be relayed as is. */
export function sourceOf(result: JsonObject): string | undefined {
  const message = Sourced.of(result);
  return message === undefined ? undefined : resultMember(message);
}

/**
 * The source of `result` with `members` (the JSON text of members, `"key":value,…`) added at its
 * end; undefined when it has none (as {@link sourceOf}).
 */
export function sourceWith(result: JsonObject, members: string): string | undefined {
  const source = sourceOf(result);
  if (source === undefined) return undefined;
  const empty = source.charCodeAt(skipSpace(source, 1)) === CLOSE_BRACE;
  return `${source.slice(0, -1)}${empty ? "" : ","}${members}}`;
}

/**
 * The text of the one `result` member of a JSON-RPC response (valid JSON, as parsed), when it
 * is an object and every top-level key is written without escapes; else undefined.
 */
export function resultMember(text: string): string | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = skipSpace(text, at + 1);
  let found: string | undefined;
  if (text.charCodeAt(at) === CLOSE_BRACE) return undefined;
  for (;;) {
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = plainKeyEnd(text, at);
    if (keyEnd === -1) return undefined;
    const isResult = keyEnd - at === 7 && text.startsWith("result", at + 1);
    at = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(at) !== COLON) return undefined;
    at = skipSpace(text, at + 1);
    const end = valueEnd(text, at);
    if (end === -1) return undefined;
    if (isResult) {
      if (found !== undefined || text.charCodeAt(at) !== OPEN_BRACE) return undefined;
      found = text.slice(at, end);
    }
    at = skipSpace(text, end);
    const next = text.charCodeAt(at);
    if (next === CLOSE_BRACE) return found;
    if (next !== COMMA) return undefined;
    at = skipSpace(text, at + 1);
  }
}

/** The index of the quote closing the key opened at `open`; -1 when the key has an escape. */
function plainKeyEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH) return -1;
  }
  return -1;
}

/** The index just past the value starting at `at` (in valid JSON); -1 when it does not end. */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    while (i < text.length && !isDelimiter(text.charCodeAt(i))) i++;
    return i === at ? -1 : i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i) - 1;
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The index just past the quote closing the string opened at `open`; -1 when none does. */
function stringEnd(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at + 1;
  }
}

/** Whether a character ends a number or literal: a separator, a bracket or white space. */
function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c <= 0x20;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}
