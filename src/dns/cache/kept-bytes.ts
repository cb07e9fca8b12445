/**
 * Copies of small Buffers that are kept for a long time (encoded answers,
 * cached replies), packed into slabs used for nothing else, so that no kept
 * copy pins a slab of Node's shared pool full of query garbage
 * (docs/design/dns-memory.md#kept-bytes-in-their-own-slabs). A slab is freed
 * when the last copy in it is dropped.
 */
export class KeptBytes {
  readonly #slabSize: number;
  #slab: Buffer | null = null;
  #used = 0;

  constructor(slabSize = 16 * 1024) {
    this.#slabSize = slabSize;
  }

  /** An exact-size copy of `src`, sharing a slab only with other copies made here. */
  copy(src: Uint8Array): Buffer {
    const n = src.length;
    // A large reply gets an allocation of its own rather than wasting a slab's tail.
    if (n > this.#slabSize >> 2) {
      const own = Buffer.allocUnsafeSlow(n);
      own.set(src);
      return own;
    }
    if (this.#slab === null || this.#used + n > this.#slabSize) {
      this.#slab = Buffer.allocUnsafeSlow(this.#slabSize);
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + n);
    out.set(src);
    this.#used += n;
    return out;
  }

  /** Later copies go into new slabs, so the current one is freed with the copies already in it. */
  startOver(): void {
    this.#slab = null;
    this.#used = 0;
  }
}
