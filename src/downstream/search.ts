/**
 * Ranked tool search for meta-tool mode: BM25 over each tool's name, description and parameter
 * names (and their descriptions). Names are split on `__`, `_`, `-`, dots and camelCase, words are
 * lower-cased and lightly stemmed, and tool-name words weigh three times the others. A query word
 * also matches its related words (`synonyms.ts`) at a lower weight, so "bill Acme" finds
 * `create_invoice`.
 */
import { editDistance } from "../config/suggest.ts";
import { isJsonObject, type JsonObject } from "../mcp/jsonrpc.ts";
import { relatedWords } from "./synonyms.ts";

/** One ranked hit. */
export interface SearchHit {
  tool: JsonObject;
  score: number;
}

const K1 = 1.2;
const B = 0.75;
const NAME_WEIGHT = 3;
const RELATED_WEIGHT = 0.5;
const STOP_WORDS = new Set(
  ("a about an and are as at be but by can could did do does don for from get has have how i in " +
    "into is it its just me my of on or our please should so that the their them there they this " +
    "to us use want was we what when where which who why will with would yet you your")
    .split(" "),
);

/** Splits text into lower-case, lightly stemmed words. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word))
    .map(stem);
}

/** Strips a plural, then an "-ing" or "-ed" ("meetings" → "meet"), so stemming is idempotent. */
function stem(word: string): string {
  const singular = singularOf(word);
  if (singular.length > 5 && singular.endsWith("ing")) return singular.slice(0, -3);
  if (singular.length > 4 && singular.endsWith("ed")) return singular.slice(0, -2);
  return singular;
}

function singularOf(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

/** The weighted words of a tool: its name, description and parameters. */
function document(tool: JsonObject): string[] {
  const out: string[] = [];
  const add = (text: unknown, weight: number) => {
    if (typeof text !== "string") return;
    const found = words(text);
    for (let i = 0; i < weight; i++) out.push(...found);
  };
  add(tool.name, NAME_WEIGHT);
  add(tool.title, NAME_WEIGHT);
  add(tool.description, 1);
  const properties = isJsonObject(tool.inputSchema) && isJsonObject(tool.inputSchema.properties)
    ? tool.inputSchema.properties
    : {};
  for (const [name, schema] of Object.entries(properties)) {
    add(name, 1);
    if (isJsonObject(schema)) add(schema.description, 1);
  }
  return out;
}

/** A BM25 index over a list of tools. */
export class ToolIndex {
  readonly #tools: readonly JsonObject[];
  readonly #frequencies: Array<Map<string, number>>;
  readonly #lengths: number[];
  readonly #documentFrequency = new Map<string, number>();
  readonly #averageLength: number;

  constructor(tools: readonly JsonObject[]) {
    this.#tools = tools;
    this.#frequencies = tools.map((tool) => {
      const counts = new Map<string, number>();
      for (const word of document(tool)) counts.set(word, (counts.get(word) ?? 0) + 1);
      for (const word of counts.keys()) {
        this.#documentFrequency.set(word, (this.#documentFrequency.get(word) ?? 0) + 1);
      }
      return counts;
    });
    this.#lengths = this.#frequencies.map((counts) =>
      [...counts.values()].reduce((a, b) => a + b, 0)
    );
    this.#averageLength = this.#lengths.reduce((a, b) => a + b, 0) / Math.max(1, tools.length);
  }

  /** The best `limit` tools for a query, best first; tools matching no query word are left out. */
  search(query: string, limit: number, filter?: (tool: JsonObject) => boolean): SearchHit[] {
    const terms = [...new Set(words(query))];
    const n = this.#tools.length;
    const hits: SearchHit[] = [];
    this.#tools.forEach((tool, i) => {
      if (filter && !filter(tool)) return;
      const counts = this.#frequencies[i]!;
      const norm = K1 * (1 - B + B * this.#lengths[i]! / this.#averageLength);
      const termScore = (term: string) => {
        const tf = counts.get(term);
        if (!tf) return 0;
        const df = this.#documentFrequency.get(term) ?? 0;
        return Math.log(1 + (n - df + 0.5) / (df + 0.5)) * (tf * (K1 + 1)) / (tf + norm);
      };
      let score = 0;
      for (const term of terms) {
        let best = termScore(term);
        for (const other of relatedWords(term, stem)) {
          best = Math.max(best, RELATED_WEIGHT * termScore(other));
        }
        score += best;
      }
      if (score > 0) hits.push({ tool, score });
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, limit);
  }
}

/** The names closest to `name` by edit distance (for "did you mean"). */
export function closestNames(name: string, names: readonly string[], limit = 3): string[] {
  return names
    .map((candidate) => ({
      candidate,
      distance: editDistance(name.toLowerCase(), candidate.toLowerCase()),
    }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, limit)
    .map((entry) => entry.candidate);
}
