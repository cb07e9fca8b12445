import { KeptBytes } from './kept-bytes.ts';
import type { EncodedMessage } from './wire/writer.ts';

/** An encoded reply and the zone that answered it (for metrics). */
export type CachedReply = EncodedMessage & { zone: string };

/**
 * Encoded replies by (qtype, lowercased qname), so a hot name is encoded
 * once and each later query only patches its ID, flags and question in
 * (wire/response.ts). Every index change empties it: the SOA serial and
 * possibly any answer changed. Bounded: when full it starts over, which
 * costs one re-encode per hot name and cannot grow under a flood of
 * random names.
 */
export class EncodedAnswers {
  readonly #map = new Map<string, CachedReply>();
  readonly #max: number;
  readonly #kept = new KeptBytes();
  hits = 0;
  misses = 0;

  constructor(max: number) {
    this.#max = max;
  }

  static key(qtype: number, qname: string): string {
    return `${qtype} ${qname}`;
  }

  get(key: string): CachedReply | undefined {
    const m = this.#map.get(key);
    if (m) this.hits++;
    else this.misses++;
    return m;
  }

  set(key: string, msg: CachedReply): void {
    if (this.#max <= 0) return;
    if (this.#map.size >= this.#max) this.clear();
    // The encoder writes into a 512-byte slice of Node's shared pool and hands
    // out a view of it: kept as is, every entry would pin that pool's slab.
    // An exact-size copy in slabs of kept bytes only is kept instead.
    this.#map.set(key, { ...msg, bytes: this.#kept.copy(msg.bytes) });
  }

  clear(): void {
    this.#map.clear();
    this.#kept.startOver();
  }

  get size(): number {
    return this.#map.size;
  }
}
