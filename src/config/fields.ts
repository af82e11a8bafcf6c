/** Builders for the fields of the config schema: defaults, empty values, forbidden keys. */
import { z } from "zod";

/** The longest timer Deno runs as given (longer ones fire after 1 ms). */
export const MAX_TIMER_SECONDS = 2_147_483;
/** The same in milliseconds. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A key written with no value (`mcp:`) counts as absent and takes its default, as in mcpstead. */
export function emptyIsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema);
}

/** A section of the file: a strict mapping whose keys all have defaults. */
export function section<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return emptyIsAbsent(z.strictObject(shape).prefault({} as z.input<z.ZodObject<Shape>>));
}

/** A key that must not be written at all, because it would put a secret in the file. */
export function forbidden(reason: string) {
  return z.unknown().superRefine((_, ctx) => {
    ctx.addIssue({ code: "custom", message: reason, params: { at: "key" } });
  }).transform(() => undefined).optional();
}

/** A string that `parse` turns into a value, or rejects with `message`. */
export function parsedString<T>(
  parse: (text: string) => T | undefined,
  message: (text: string) => string,
) {
  return z.string().transform((text, ctx): T => {
    const value = parse(text);
    if (value !== undefined) return value;
    ctx.addIssue({ code: "custom", message: message(text) });
    return z.NEVER;
  });
}

/** A boolean with a default. */
export const flag = (value: boolean) => emptyIsAbsent(z.boolean().default(value));
/** A non-negative integer with a default. */
export const count = (value: number) => emptyIsAbsent(z.int().min(0).default(value));
/** Milliseconds, capped so timers stay valid. */
export const millis = (value: number) =>
  emptyIsAbsent(z.int().min(0).max(MAX_TIMER_MS).default(value));
/** Whole seconds, capped so timers stay valid. */
export const seconds = (value: number, min: 0 | 1) =>
  emptyIsAbsent(z.int().min(min).max(MAX_TIMER_SECONDS).default(value));
