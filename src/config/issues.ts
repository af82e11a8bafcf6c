/** Turning zod's issues into config problems that read as plain sentences. */
import type { z } from "zod";
import { quote } from "./format.ts";
import { closest } from "./suggest.ts";

/** A config problem found at a config path, before it has a position in the file. */
export interface PathIssue {
  /** Config path of the offending key, e.g. `["servers", 0, "name"]`. */
  readonly path: readonly PropertyKey[];
  /** What is wrong. */
  readonly reason: string;
  /** Whether the key itself is wrong (unknown, forbidden) rather than its value. */
  readonly at: "key" | "value";
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
};

/** Error map for config parses: names what was expected and what the file has instead. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (
    (issue.code === "invalid_type" || issue.code === "invalid_value") && issue.input === undefined
  ) {
    return "required key is missing";
  }
  switch (issue.code) {
    case "invalid_type":
      return `expected ${expected(issue)}, got ${describe(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${quote(issue.values[0])}, got ${describe(issue.input)}`
        : `expected one of ${issue.values.map(quote).join(", ")}, got ${describe(issue.input)}`;
    case "too_small":
      if (issue.origin === "string") return "cannot be empty";
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}, got ${
        describe(issue.input)
      }`;
    case "too_big":
      return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}, got ${
        describe(issue.input)
      }`;
    default:
      return undefined;
  }
};

/**
 * Turns zod issues into path issues: one per unknown key, with a "did you mean" from the keys
 * `schema` knows there, and for a failed union the issues of the one branch that fits the value.
 */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.core.$ZodType,
  prefix: readonly PropertyKey[] = [],
): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        const hint = guess === undefined ? "" : ` (did you mean ${quote(guess)}?)`;
        out.push({ path: [...path, key], reason: `unknown key ${quote(key)}${hint}`, at: "key" });
      }
    } else if (issue.code === "invalid_union") {
      // Branches that failed only because the value has another type say nothing useful.
      const telling = issue.errors.filter((branch) => !isTypeMismatch(branch));
      const [branch] = telling;
      if (telling.length === 1 && branch !== undefined) {
        out.push(...fromZodIssues(branch, schema, path));
      } else out.push({ path, reason: issue.message, at: "value" });
    } else {
      const atKey = issue.code === "custom" && issue.params?.at === "key";
      out.push({ path, reason: issue.message, at: atKey ? "key" : "value" });
    }
  }
  return out;
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const [first] = branch;
  return branch.length === 1 && first?.code === "invalid_type" && first.path.length === 0;
}

function expected(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidType>): string {
  // z.int() reports a string as "expected number"; its definition knows it wants an integer.
  const format = (issue.inst?._zod.def as { format?: unknown } | undefined)?.format;
  if (issue.expected === "number" && typeof format === "string" && format.includes("int")) {
    return EXPECTED.int ?? "an integer";
  }
  return EXPECTED[issue.expected] ?? issue.expected;
}

function describe(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return quote(value);
  return String(value);
}

// The parts of zod's schema definitions the key walk reads.
interface Def {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  out?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
}

function def(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** The keys the mapping(s) that `schema` expects at `path` allow. */
function knownKeys(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current = concrete(schema);
  for (const segment of path) {
    current = current.flatMap((candidate) => {
      const next = childAt(def(candidate), segment);
      return next === undefined ? [] : concrete(next);
    });
  }
  const keys = current.flatMap((candidate) => Object.keys(def(candidate).shape ?? {}));
  return [...new Set(keys)];
}

function childAt(d: Def, segment: PropertyKey): z.core.$ZodType | undefined {
  if (d.type === "object" && typeof segment === "string" && d.shape !== undefined) {
    return Object.hasOwn(d.shape, segment) ? d.shape[segment] : undefined;
  }
  if (d.type === "array" && typeof segment === "number") return d.element;
  if (d.type === "record") return d.valueType;
  return undefined;
}

/** The schemas a value is checked against once wrappers (defaults, pipes, unions) are peeled. */
function concrete(schema: z.core.$ZodType): z.core.$ZodType[] {
  const d = def(schema);
  switch (d.type) {
    case "pipe":
      // z.preprocess is transform → schema; .transform() is schema → transform.
      if (d.in === undefined || d.out === undefined) return [];
      return concrete(def(d.in).type === "transform" ? d.out : d.in);
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "nonoptional":
    case "readonly":
    case "catch":
      return d.innerType === undefined ? [] : concrete(d.innerType);
    case "lazy":
      return d.getter === undefined ? [] : concrete(d.getter());
    case "union":
      return (d.options ?? []).flatMap(concrete);
    case "intersection":
      return [d.left, d.right].flatMap((side) => (side === undefined ? [] : concrete(side)));
    default:
      return [schema];
  }
}
