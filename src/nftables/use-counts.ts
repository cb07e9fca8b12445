// How many plans use each key (the hairpin element of an endpoint address:
// services share endpoints, the element is written once and deleted with its
// last user).

/**
 * Use counts kept as a Set of the keys in use (first use first) plus the
 * extra uses of the few keys used more than once: a full sync counts ~90k
 * addresses at 30k services, nearly all used once, and this is one Set
 * insert each where a Map<string, number> took a lookup and a store.
 */
export class UseCounts {
  readonly #used = new Set<string>();
  /** Uses beyond the first, only for keys used more than once. */
  readonly #extra = new Map<string, number>();

  /** One more use of `key`. */
  add(key: string): void {
    const before = this.#used.size;
    this.#used.add(key);
    if (this.#used.size === before) this.#extra.set(key, (this.#extra.get(key) ?? 0) + 1);
  }

  count(key: string): number {
    return this.#used.has(key) ? 1 + (this.#extra.get(key) ?? 0) : 0;
  }

  /** `by` uses more (or fewer, negative) of `key`; at 0 it is gone. */
  change(key: string, by: number): void {
    const n = this.count(key) + by;
    if (n <= 0) {
      this.#used.delete(key);
      this.#extra.delete(key);
      return;
    }
    this.#used.add(key);
    if (n > 1) this.#extra.set(key, n - 1);
    else this.#extra.delete(key);
  }

  has(key: string): boolean {
    return this.#used.has(key);
  }

  /** The keys in use, in the order of their first use. */
  keys(): IterableIterator<string> {
    return this.#used.values();
  }

  get size(): number {
    return this.#used.size;
  }
}
