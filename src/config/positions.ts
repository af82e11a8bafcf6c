/** Finding where a config path is written in the YAML source, for `file:line:column` messages. */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  visit,
} from "yaml";

/** A 1-based position in the config file. */
export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

interface Ranged {
  range?: readonly [number, number, number] | null;
}

/**
 * Locates `path` in `doc`: the key itself when `at` is "key" (or the value is empty), the value
 * otherwise, and the start of the nearest enclosing node when the path is not in the file (a
 * missing required key points at its mapping).
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  at: "key" | "value",
): Position {
  const start = (node: Ranged | null | undefined): Position => {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let node: unknown = doc.contents;
  let key: Ranged | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) return start(node);
      key = pair.key as Ranged;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (item === undefined) return start(node);
      key = undefined;
      node = item;
    } else return start(node as Ranged | null);
  }
  const value = node as Ranged | null;
  const empty = value === null || isScalar(value) && value.range?.[0] === value.range?.[1];
  if (key !== undefined && (at === "key" || empty)) return start(key);
  return start(value);
}

/** The config path of the mapping entry whose key starts at `offset`. */
export function pathOfKeyAt(doc: Document, offset: number): PropertyKey[] | undefined {
  let found: PropertyKey[] | undefined;
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return;
      const path: PropertyKey[] = [];
      ancestors.forEach((node, i) => {
        if (isPair(node)) path.push(keyText(node.key));
        else if (isSeq(node)) path.push(node.items.indexOf(ancestors[i + 1] ?? pair));
      });
      found = [...path, keyText(pair.key)];
      return visit.BREAK;
    },
  });
  return found;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}
