/**
 * The headers of a request read by the server, shaped like `Headers`: lookups scan the fields
 * as parsed (names already lowercased and checked), with no copy and no WebIDL conversion; the
 * first change turns them into a real `Headers`.
 */

/** Request header fields (lowercased names, values as sent) behind the `Headers` interface. */
export class FieldHeaders implements Headers {
  readonly #names: readonly string[];
  readonly #values: readonly string[];
  #real: Headers | undefined;
  #sorted: Array<[string, string]> | undefined;

  constructor(names: readonly string[], values: readonly string[]) {
    this.#names = names;
    this.#values = values;
  }

  /** The size of the fields as sent, each counted as name, value and four separator bytes. */
  get fieldBytes(): number {
    if (this.#real !== undefined) return headerBytes(this.#real);
    let total = 0;
    for (let i = 0; i < this.#names.length; i++) {
      total += this.#names[i]!.length + this.#values[i]!.length + 4;
    }
    return total;
  }

  get(name: string): string | null {
    if (this.#real !== undefined) return this.#real.get(name);
    const lower = name.toLowerCase();
    let out: string | null = null;
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === lower) out = out === null ? this.#values[i]! : `${out}, ${this.#values[i]}`;
    }
    return out;
  }

  has(name: string): boolean {
    return this.#real?.has(name) ?? this.#names.includes(name.toLowerCase());
  }

  getSetCookie(): string[] {
    return this.#mutable().getSetCookie();
  }

  append(name: string, value: string): void {
    this.#mutable().append(name, value);
  }

  set(name: string, value: string): void {
    this.#mutable().set(name, value);
  }

  delete(name: string): void {
    this.#mutable().delete(name);
  }

  entries(): IterableIterator<[string, string]> {
    return this.#real?.entries() ?? this.#list().values();
  }

  keys(): IterableIterator<string> {
    return this.#real?.keys() ?? this.#list().map(([name]) => name).values();
  }

  values(): IterableIterator<string> {
    return this.#real?.values() ?? this.#list().map(([, value]) => value).values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  forEach(callback: (value: string, key: string, parent: this) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  /** Fields sorted by name, values of one name combined, as `Headers` iterates them. */
  #list(): Array<[string, string]> {
    if (this.#sorted !== undefined) return this.#sorted;
    const combined = new Map<string, string>();
    for (let i = 0; i < this.#names.length; i++) {
      const name = this.#names[i]!;
      const seen = combined.get(name);
      combined.set(name, seen === undefined ? this.#values[i]! : `${seen}, ${this.#values[i]}`);
    }
    return this.#sorted = [...combined].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  #mutable(): Headers {
    if (this.#real === undefined) {
      this.#real = new Headers();
      for (let i = 0; i < this.#names.length; i++) {
        this.#real.append(this.#names[i]!, this.#values[i]!);
      }
    }
    return this.#real;
  }
}

/** The size of header fields as sent: name, value and four separator bytes each. */
export function headerBytes(headers: Headers): number {
  if (headers instanceof FieldHeaders) return headers.fieldBytes;
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length + 4;
  return total;
}
