// A tiny typed metrics registry: families declare their label names once, and every call that
// selects a series is checked against them at compile time.

import {
  CounterSeries,
  Family,
  GaugeSeries,
  HistogramSeries,
  type MetricType,
  type RawLabels,
  type RawSample,
  sampleNames,
  type Series,
  spellBounds,
  validateBuckets,
} from "./family.ts";

/** Label values of one series, keyed by the family's declared label names. */
export type LabelValues<L extends string> = { readonly [K in L]: string };

/** Arguments that select a series: the label values, or nothing for an unlabelled metric. */
export type SeriesArgs<L extends string> = [L] extends [never] ? []
  : [labels: LabelValues<L>];

/** One sample returned by a `collect` callback; `labels` may be left out when there are none. */
export type CollectedSample<L extends string> = [L] extends [never]
  ? { readonly labels?: LabelValues<never>; readonly value: number }
  : { readonly labels: LabelValues<L>; readonly value: number };

/** Options shared by every metric type. */
export interface MetricOptions<L extends string> {
  /** Metric name, e.g. `mcpstead_tool_calls_total`. */
  readonly name: string;
  /** HELP text; required, since `promtool check metrics` flags its absence. */
  readonly help: string;
  /** Label names, in exposition order; omit for an unlabelled metric. */
  readonly labelNames?: readonly L[];
}

/** Options of a metric whose samples are computed at scrape time. */
export interface CollectOptions<L extends string> extends MetricOptions<L> {
  /** Called on every render; returns the samples to emit now (none to emit only HELP/TYPE). */
  readonly collect: () => Iterable<CollectedSample<L>>;
}

/** Options of a metric whose samples are recorded by calls (no `collect`). */
export interface RecordedOptions<L extends string> extends MetricOptions<L> {
  /** Absent: recorded metrics have no callback. */
  readonly collect?: undefined;
}

/** Options of a histogram. */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, strictly increasing; `+Inf` is implied and may be left out. */
  readonly buckets: readonly number[];
}

/** A counter series bound to its label values, for hot paths that record many times. */
export interface CounterChild {
  /** Adds `value` (default 1); throws `RangeError` if it is negative or NaN. */
  inc(value?: number): void;
  /** Returns the current value. */
  get(): number;
}

/** A gauge series bound to its label values, for hot paths that record many times. */
export interface GaugeChild {
  /** Sets the value. */
  set(value: number): void;
  /** Adds `value` (default 1). */
  inc(value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(value?: number): void;
  /** Returns the current value. */
  get(): number;
}

/** A histogram series bound to its label values, for hot paths that record many times. */
export interface HistogramChild {
  /** Records one observation; throws `RangeError` if it is NaN. */
  observe(value: number): void;
}

const NO_LABELS: RawLabels = Object.freeze({});

// Public args are typed tuples; at run time a labelled metric's first argument is the labels.
function labelsOf(family: Family, args: readonly unknown[]): RawLabels {
  return family.labelNames.length === 0 ? NO_LABELS : args[0] as RawLabels;
}

function valueOf(family: Family, args: readonly unknown[]): number | undefined {
  return args[family.labelNames.length === 0 ? 0 : 1] as number | undefined;
}

// Wrappers are built only by Registry: the constructors are private and these factories, set in
// each class's static block, can reach the `#family` field.
let wrapCounter: (family: Family<CounterSeries>) => Counter<string>;
let wrapGauge: (family: Family<GaugeSeries>) => Gauge<string>;
let wrapHistogram: (family: Family<HistogramSeries>) => Histogram<string>;
let wrapCollected: (family: Family) => CollectedMetric;

/** A monotonically increasing counter. */
export class Counter<L extends string = never> {
  #family!: Family<CounterSeries>;

  static {
    wrapCounter = (family) => {
      const metric = new Counter<string>();
      metric.#family = family;
      return metric;
    };
  }

  private constructor() {}

  /** Metric name. */
  get name(): string {
    return this.#family.name;
  }

  /** Adds `value` (default 1) to the series; throws `RangeError` if negative or NaN. */
  inc(...args: [...SeriesArgs<L>, value?: number]): void {
    const family = this.#family;
    family.get(labelsOf(family, args)).inc(valueOf(family, args));
  }

  /** Returns the series' value, or `undefined` if it was never recorded. */
  get(...args: SeriesArgs<L>): number | undefined {
    return this.#family.find(labelsOf(this.#family, args))?.value;
  }

  /** Returns the series bound to these label values, creating it on first use. */
  labels(...args: SeriesArgs<L>): CounterChild {
    return this.#family.get(labelsOf(this.#family, args));
  }

  /**
   * Drops one series (e.g. an upstream removed on reload); returns whether it existed. A child
   * bound earlier stays usable but is no longer exported, so late updates cannot resurrect it.
   */
  remove(...args: SeriesArgs<L>): boolean {
    return this.#family.remove(labelsOf(this.#family, args));
  }

  /** Drops every series (an unlabelled counter restarts at 0); bound children stop exporting. */
  reset(): void {
    this.#family.reset();
  }
}

/** A gauge: a value that goes up and down. */
export class Gauge<L extends string = never> {
  #family!: Family<GaugeSeries>;

  static {
    wrapGauge = (family) => {
      const metric = new Gauge<string>();
      metric.#family = family;
      return metric;
    };
  }

  private constructor() {}

  /** Metric name. */
  get name(): string {
    return this.#family.name;
  }

  /** Sets the series' value. */
  set(...args: [...SeriesArgs<L>, value: number]): void {
    const family = this.#family;
    family.get(labelsOf(family, args)).set(valueOf(family, args)!);
  }

  /** Adds `value` (default 1) to the series. */
  inc(...args: [...SeriesArgs<L>, value?: number]): void {
    const family = this.#family;
    family.get(labelsOf(family, args)).inc(valueOf(family, args));
  }

  /** Subtracts `value` (default 1) from the series. */
  dec(...args: [...SeriesArgs<L>, value?: number]): void {
    const family = this.#family;
    family.get(labelsOf(family, args)).dec(valueOf(family, args));
  }

  /** Returns the series' value, or `undefined` if it was never set. */
  get(...args: SeriesArgs<L>): number | undefined {
    return this.#family.find(labelsOf(this.#family, args))?.value;
  }

  /** Returns the series bound to these label values, creating it on first use. */
  labels(...args: SeriesArgs<L>): GaugeChild {
    return this.#family.get(labelsOf(this.#family, args));
  }

  /** Drops one series; returns whether it existed. Bound children stop exporting. */
  remove(...args: SeriesArgs<L>): boolean {
    return this.#family.remove(labelsOf(this.#family, args));
  }

  /** Drops every series; bound children stop exporting. */
  reset(): void {
    this.#family.reset();
  }
}

/** A histogram with cumulative buckets, `_sum` and `_count`. */
export class Histogram<L extends string = never> {
  #family!: Family<HistogramSeries>;

  static {
    wrapHistogram = (family) => {
      const metric = new Histogram<string>();
      metric.#family = family;
      return metric;
    };
  }

  private constructor() {}

  /** Metric name. */
  get name(): string {
    return this.#family.name;
  }

  /** Records one observation in the series; throws `RangeError` if it is NaN. */
  observe(...args: [...SeriesArgs<L>, value: number]): void {
    const family = this.#family;
    family.get(labelsOf(family, args)).observe(valueOf(family, args)!);
  }

  /** Returns the series bound to these label values, creating it on first use. */
  labels(...args: SeriesArgs<L>): HistogramChild {
    return this.#family.get(labelsOf(this.#family, args));
  }

  /** Drops one series; returns whether it existed. Bound children stop exporting. */
  remove(...args: SeriesArgs<L>): boolean {
    return this.#family.remove(labelsOf(this.#family, args));
  }

  /** Drops every series (an unlabelled histogram restarts empty); bound children stop exporting. */
  reset(): void {
    this.#family.reset();
  }
}

/** A counter or gauge whose samples come from its `collect` callback at scrape time. */
export class CollectedMetric {
  #family!: Family;

  static {
    wrapCollected = (family) => {
      const metric = new CollectedMetric();
      metric.#family = family;
      return metric;
    };
  }

  private constructor() {}

  /** Metric name. */
  get name(): string {
    return this.#family.name;
  }

  /** Metric type: `counter` or `gauge`. */
  get type(): MetricType {
    return this.#family.type;
  }
}

let familiesOfRegistry: (registry: Registry) => readonly Family[];

/**
 * Holds metric families in registration order; `render()` turns it into text.
 *
 * @example
 * ```ts
 * import { Registry, render } from "./mod.ts";
 * const registry = new Registry();
 * const calls = registry.counter({
 *   name: "mcpstead_tool_calls_total",
 *   help: "Tool calls routed to an upstream.",
 *   labelNames: ["server", "result"],
 * });
 * calls.inc({ server: "files", result: "success" });
 * const ok = calls.labels({ server: "files", result: "success" }); // pre-bound for hot paths
 * ok.inc();
 * render(registry); // '# HELP mcpstead_tool_calls_total ...'
 * ```
 */
export class Registry {
  readonly #families: Family[] = [];
  // Every sample name in use (a histogram also claims `_bucket`, `_sum`, `_count`).
  readonly #claimed = new Map<string, string>();

  static {
    familiesOfRegistry = (registry) => registry.#families;
  }

  /** Registers a counter computed at scrape time by `collect`. */
  counter<const L extends string = never>(options: CollectOptions<L>): CollectedMetric;
  /** Registers a counter; the name should end in `_total`. */
  counter<const L extends string = never>(options: RecordedOptions<L>): Counter<L>;
  counter<const L extends string = never>(
    options: CollectOptions<L> | RecordedOptions<L>,
  ): Counter<L> | CollectedMetric {
    const family = this.#register(options, "counter", (name, pairs) => {
      return new CounterSeries(name, pairs);
    }, {});
    return options.collect
      ? wrapCollected(family as unknown as Family)
      : wrapCounter(family) as unknown as Counter<L>;
  }

  /** Registers a gauge computed at scrape time by `collect` (e.g. uptime). */
  gauge<const L extends string = never>(options: CollectOptions<L>): CollectedMetric;
  /** Registers a gauge. */
  gauge<const L extends string = never>(options: RecordedOptions<L>): Gauge<L>;
  gauge<const L extends string = never>(
    options: CollectOptions<L> | RecordedOptions<L>,
  ): Gauge<L> | CollectedMetric {
    const family = this.#register(options, "gauge", (name, pairs) => {
      return new GaugeSeries(name, pairs);
    }, {});
    return options.collect
      ? wrapCollected(family as unknown as Family)
      : wrapGauge(family) as unknown as Gauge<L>;
  }

  /** Registers a histogram with the given bucket upper bounds. */
  histogram<const L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    const bounds = validateBuckets(options.name, options.buckets);
    const family = this.#register(options, "histogram", (name, pairs) => {
      return new HistogramSeries(name, pairs, bounds);
    }, { le: spellBounds(bounds) });
    return wrapHistogram(family) as unknown as Histogram<L>;
  }

  /** Drops every series of every recorded metric; registrations stay. */
  reset(): void {
    for (const family of this.#families) family.reset();
  }

  #register<S extends Series>(
    options: MetricOptions<string> & { readonly collect?: (() => Iterable<RawSample>) | undefined },
    type: MetricType,
    create: (name: string, labelPairs: string) => S,
    extra: { le?: readonly string[] },
  ): Family<S> {
    const { name } = options;
    const claims = sampleNames(name, type);
    for (const claim of claims) {
      const owner = this.#claimed.get(claim);
      if (owner !== undefined) {
        throw new TypeError(
          owner === name
            ? `Cannot register metric "${name}": already registered`
            : `Cannot register metric "${name}": its sample "${claim}" collides with "${owner}"`,
        );
      }
    }
    const family = new Family<S>(
      { name, help: options.help, type, labelNames: options.labelNames ?? [] },
      (pairs) => create(name, pairs),
      {
        eager: type !== "gauge",
        ...(extra.le ? { le: extra.le } : {}),
        ...(options.collect ? { collect: options.collect } : {}),
      },
    );
    for (const claim of claims) this.#claimed.set(claim, name);
    this.#families.push(family as unknown as Family);
    return family;
  }
}

/** The registry's families in registration order; for the renderer, not exported from mod.ts. */
export function familiesOf(registry: Registry): readonly Family[] {
  return familiesOfRegistry(registry);
}
