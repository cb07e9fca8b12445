/**
 * The last few values computed, by key: a fixed ring of slots, the oldest
 * overwritten first, found by a linear scan (it is meant to stay small).
 *
 * Not a Map used as an LRU: its deletes and re-adds at query rate leave old
 * hash tables that promote dead values; these slots are one array for the
 * process's life (docs/design/dns-memory.md#zone-index-ring).
 */
export class RecentCache<V> {
  readonly #keys: Array<string | undefined>;
  readonly #values: Array<V | undefined>;
  #next = 0;

  constructor(size: number) {
    const n = Math.max(1, size);
    this.#keys = new Array<string | undefined>(n).fill(undefined);
    this.#values = new Array<V | undefined>(n).fill(undefined);
  }

  get(key: string): V | undefined {
    const i = this.#keys.indexOf(key);
    return i < 0 ? undefined : this.#values[i];
  }

  set(key: string, value: V): void {
    let i = this.#keys.indexOf(key);
    if (i < 0) {
      i = this.#next;
      this.#next = (this.#next + 1) % this.#keys.length;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
  }

  delete(key: string): void {
    const i = this.#keys.indexOf(key);
    if (i < 0) return;
    this.#keys[i] = undefined;
    this.#values[i] = undefined;
  }

  /** Slots holding a value. */
  get size(): number {
    let n = 0;
    for (const k of this.#keys) if (k !== undefined) n++;
    return n;
  }
}
