/**
 * The last few values computed, by key: a fixed ring of slots, the oldest
 * overwritten first, found by a linear scan (it is meant to stay small).
 *
 * Why not a Map used as an LRU: deleting and re-adding keys at query rate
 * makes a long-lived Map rebuild its hash table every few hundred
 * operations, and each table it leaves behind (in the old generation, where
 * the long-lived Map's tables are) still points at the newer one and at the
 * values that were in it. V8's scavenges take old objects' pointers as
 * roots, dead or not, so those values survived into the old generation in a
 * chain until the next full GC: filling `netlet dns`'s encoded answers for
 * 10k services promoted ~10 MB of dead service records that way, and left
 * old-space pages part used. The slots here are one array for the process's
 * life, and a value overwritten soon after it was made dies young.
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
