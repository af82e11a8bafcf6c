/**
 * A pass over a JSON body's bytes before it is parsed, refusing bodies that nest too deep or hold
 * too many values. Parsing a 4 MB body of nested brackets took 0.6 s of main-thread CPU (and
 * walking a parsed array of 1.9 million values 0.3 s) before the depth was known; this pass stops
 * at the first bracket past the limit, and jumps over strings with `indexOf`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Limits on the shape of a JSON body. */
export interface JsonShapeLimits {
  /** Most arrays and objects nested in one another. */
  maxJsonDepth: number;
  /** Most values in arrays and objects (counted as separators and containers). */
  maxJsonValues: number;
}

/** Why a JSON body's shape is refused, or undefined. Malformed JSON is left to the parser. */
export function jsonShapeProblem(bytes: Uint8Array, limits: JsonShapeLimits): string | undefined {
  let depth = 0;
  let values = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) i = closingQuote(bytes, i);
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limits.maxJsonDepth) {
        return `JSON nested deeper than ${limits.maxJsonDepth} levels`;
      }
      if (++values > limits.maxJsonValues) return tooMany(limits.maxJsonValues);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
    else if (c === COMMA && ++values > limits.maxJsonValues) return tooMany(limits.maxJsonValues);
  }
  return undefined;
}

function tooMany(limit: number): string {
  return `JSON holds more than ${limit} values (mcp.limits.max_json_values)`;
}

/** The index of the quote that ends the string opened at `open` (the length when none does). */
function closingQuote(bytes: Uint8Array, open: number): number {
  let at = open;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at === -1) return bytes.length;
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}
