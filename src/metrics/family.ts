// Internal storage of one metric family: its validated shape and its series. Not exported from
// mod.ts; `registry.ts` wraps it in the typed public classes and `exposition.ts` reads it.

import { escapeLabelValue, formatNumber } from "./format.ts";

/** The Prometheus metric types this library emits. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label values keyed by label name, as the family stores them. */
export type RawLabels = Readonly<Record<string, string>>;

/** One sample produced by a `collect` callback, before validation. */
export interface RawSample {
  readonly labels?: RawLabels;
  readonly value: number;
}

/** A counter series; also the bound child that `Counter.labels()` hands out. */
export class CounterSeries {
  /** Current value; read by the renderer. */
  value = 0;
  /** Pre-rendered `name="value",...` pairs, escaped, in declared label order. */
  readonly labelPairs: string;
  readonly #metric: string;

  constructor(metric: string, labelPairs: string) {
    this.#metric = metric;
    this.labelPairs = labelPairs;
  }

  /** Adds `value` (default 1); counters only go up. */
  inc(value = 1): void {
    // `!(x >= 0)` also rejects NaN.
    if (!(value >= 0)) {
      throw new RangeError(
        `Cannot increment counter "${this.#metric}": value must be >= 0, got ${value}`,
      );
    }
    this.value += value;
  }

  /** Returns the current value. */
  get(): number {
    return this.value;
  }
}

/** A gauge series; also the bound child that `Gauge.labels()` hands out. */
export class GaugeSeries {
  /** Current value; read by the renderer. */
  value = 0;
  /** Pre-rendered `name="value",...` pairs, escaped, in declared label order. */
  readonly labelPairs: string;

  constructor(_metric: string, labelPairs: string) {
    this.labelPairs = labelPairs;
  }

  /** Sets the value. */
  set(value: number): void {
    this.value = value;
  }

  /** Adds `value` (default 1). */
  inc(value = 1): void {
    this.value += value;
  }

  /** Subtracts `value` (default 1). */
  dec(value = 1): void {
    this.value -= value;
  }

  /** Returns the current value. */
  get(): number {
    return this.value;
  }
}

/** A histogram series; also the bound child that `Histogram.labels()` hands out. */
export class HistogramSeries {
  /** Per-bucket (not cumulative) counts; the last slot counts observations above every bound. */
  readonly counts: Float64Array;
  /** Number of observations. */
  count = 0;
  /** Sum of observations. */
  sum = 0;
  /** Pre-rendered `name="value",...` pairs, escaped, in declared label order. */
  readonly labelPairs: string;
  readonly #metric: string;
  readonly #bounds: Float64Array;

  constructor(metric: string, labelPairs: string, bounds: Float64Array) {
    this.#metric = metric;
    this.labelPairs = labelPairs;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation. */
  observe(value: number): void {
    if (Number.isNaN(value)) {
      // A NaN would poison `_sum` for the life of the process.
      throw new RangeError(`Cannot observe histogram "${this.#metric}": value is NaN`);
    }
    const bounds = this.#bounds;
    const n = bounds.length;
    // Linear scan: bucket lists are short (about a dozen) and most observations land early.
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.count += 1;
    this.sum += value;
  }
}

/** Any series kind. */
export type Series = CounterSeries | GaugeSeries | HistogramSeries;

/** How a family makes a new series from its pre-rendered label pairs. */
export type SeriesFactory<S extends Series> = (labelPairs: string) => S;

/** One collected sample with its label pairs rendered, ready for the renderer. */
export interface RenderedSample {
  readonly labelPairs: string;
  readonly value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const EMPTY: RawLabels = Object.freeze({});

/** Shape of a family, validated by `Family`'s constructor. */
export interface FamilyShape {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly string[];
}

/**
 * Series storage of one family. Series live in a trie of `Map`s, one level per label, keyed by
 * the label values themselves, so finding an existing series allocates nothing; `series` keeps
 * them in first-seen order for the renderer.
 */
export class Family<S extends Series = Series> {
  /** Metric name. */
  readonly name: string;
  /** HELP text (unescaped). */
  readonly help: string;
  /** TYPE. */
  readonly type: MetricType;
  /** Declared label names, in order. */
  readonly labelNames: readonly string[];
  /** Histogram `le` values, already spelled, without `+Inf`; empty for other types. */
  readonly le: readonly string[];
  /** Live series in first-seen order. */
  readonly series: Set<S> = new Set();
  readonly #create: SeriesFactory<S>;
  readonly #eager: boolean;
  readonly #collect: (() => Iterable<RawSample>) | undefined;
  #root = new Map<string, unknown>();
  #single: S | undefined;

  constructor(
    shape: FamilyShape,
    create: SeriesFactory<S>,
    options: { eager: boolean; le?: readonly string[]; collect?: () => Iterable<RawSample> },
  ) {
    validateShape(shape);
    this.name = shape.name;
    this.help = shape.help;
    this.type = shape.type;
    this.labelNames = Object.freeze([...shape.labelNames]);
    this.le = options.le ?? [];
    this.#create = create;
    this.#collect = options.collect;
    // An unlabelled counter or histogram exports its zero from the start, as the Go client does;
    // a gauge waits for its first `set`, because 0 could be a false reading (a timestamp, say).
    this.#eager = options.eager && this.labelNames.length === 0 && !this.#collect;
    if (this.#eager) this.get(EMPTY);
  }

  /** Whether the values come from a `collect` callback rather than stored series. */
  get collected(): boolean {
    return this.#collect !== undefined;
  }

  /** Returns the series for `labels`, creating it on first use. */
  get(labels: RawLabels): S {
    return this.find(labels) ?? this.#add(labels);
  }

  /** Returns the series for `labels`, or `undefined` if it does not exist. */
  find(labels: RawLabels): S | undefined {
    const names = this.labelNames;
    const last = names.length - 1;
    if (last < 0) return this.#single;
    let node = this.#root;
    for (let i = 0; i < last; i++) {
      const next = node.get(labels[names[i]!]!) as Map<string, unknown> | undefined;
      if (next === undefined) return undefined;
      node = next;
    }
    return node.get(labels[names[last]!]!) as S | undefined;
  }

  /** Drops the series for `labels`; returns whether it existed. */
  remove(labels: RawLabels): boolean {
    const names = this.labelNames;
    if (names.length === 0) {
      const single = this.#single;
      if (single === undefined) return false;
      this.#single = undefined;
      this.series.delete(single);
      return true;
    }
    const path: Map<string, unknown>[] = [this.#root];
    for (let i = 0; i < names.length - 1; i++) {
      const next = path[i]!.get(labels[names[i]!]!) as Map<string, unknown> | undefined;
      if (next === undefined) return false;
      path.push(next);
    }
    const leafMap = path[path.length - 1]!;
    const key = labels[names[names.length - 1]!]!;
    const series = leafMap.get(key) as S | undefined;
    if (series === undefined) return false;
    leafMap.delete(key);
    this.series.delete(series);
    // Prune maps left empty so a churn of label values does not leak.
    for (let i = path.length - 1; i > 0 && path[i]!.size === 0; i--) {
      path[i - 1]!.delete(labels[names[i - 1]!]!);
    }
    return true;
  }

  /** Drops every series (an unlabelled counter or histogram gets its zero series back). */
  reset(): void {
    this.#root = new Map();
    this.#single = undefined;
    this.series.clear();
    if (this.#eager) this.get(EMPTY);
  }

  /**
   * Calls the `collect` callback and renders its samples' labels; a label set returned twice
   * keeps its last value, so one buggy callback cannot emit a duplicate series.
   */
  collect(): RenderedSample[] {
    if (this.#collect === undefined) return [];
    const byPairs = new Map<string, number>();
    for (const sample of this.#collect()) {
      byPairs.set(this.#labelPairs(sample.labels ?? EMPTY), sample.value);
    }
    return Array.from(byPairs, ([labelPairs, value]) => ({ labelPairs, value }));
  }

  #add(labels: RawLabels): S {
    const series = this.#create(this.#labelPairs(labels));
    const names = this.labelNames;
    if (names.length === 0) {
      this.#single = series;
    } else {
      let node = this.#root;
      for (let i = 0; i < names.length - 1; i++) {
        const key = labels[names[i]!]!;
        let next = node.get(key) as Map<string, unknown> | undefined;
        if (next === undefined) {
          next = new Map();
          node.set(key, next);
        }
        node = next;
      }
      node.set(labels[names[names.length - 1]!]!, series);
    }
    this.series.add(series);
    return series;
  }

  #labelPairs(labels: RawLabels): string {
    let pairs = "";
    for (const name of this.labelNames) {
      const value: unknown = labels[name];
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot record "${this.name}": label "${name}" must be a string, got ${typeof value}`,
        );
      }
      pairs += `${pairs === "" ? "" : ","}${name}="${escapeLabelValue(value)}"`;
    }
    return pairs;
  }
}

/** Validates histogram bounds and returns them with any trailing `+Inf` dropped. */
export function validateBuckets(name: string, buckets: readonly number[]): Float64Array {
  const bounds = buckets.at(-1) === Infinity ? buckets.slice(0, -1) : buckets;
  for (let i = 0; i < bounds.length; i++) {
    const bound = bounds[i]!;
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw new TypeError(
        `Cannot register histogram "${name}": bucket ${bound} is not a finite number`,
      );
    }
    if (i > 0 && !(bound > bounds[i - 1]!)) {
      throw new TypeError(
        `Cannot register histogram "${name}": buckets must increase, got ${
          bounds[i - 1]
        } then ${bound}`,
      );
    }
  }
  return Float64Array.from(bounds);
}

/** Spells histogram bounds for the `le` label. */
export function spellBounds(bounds: Float64Array): string[] {
  return Array.from(bounds, formatNumber);
}

/** Names of the sample lines a family emits, used to refuse colliding registrations. */
export function sampleNames(name: string, type: MetricType): string[] {
  return type === "histogram" ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

function validateShape(shape: FamilyShape): void {
  const { name, help, type, labelNames } = shape;
  if (typeof name !== "string" || !METRIC_NAME.test(name)) {
    throw new TypeError(`Cannot register metric "${name}": invalid metric name`);
  }
  if (typeof help !== "string" || help === "") {
    throw new TypeError(`Cannot register metric "${name}": help text is required`);
  }
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (typeof label !== "string" || !LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(`Cannot register metric "${name}": invalid label name "${label}"`);
    }
    if (type === "histogram" && label === "le") {
      throw new TypeError(`Cannot register histogram "${name}": label name "le" is reserved`);
    }
    if (seen.has(label)) {
      throw new TypeError(`Cannot register metric "${name}": duplicate label name "${label}"`);
    }
    seen.add(label);
  }
}
