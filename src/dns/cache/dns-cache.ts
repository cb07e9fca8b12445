import { shapeOf } from './reply-shape.ts';
import { KeptBytes } from './kept-bytes.ts';

export type CacheKind = 'success' | 'denial';

export interface CacheLimits {
  /** Most entries kept of each kind; the least recently used goes first. */
  successCapacity: number;
  denialCapacity: number;
  /** Longest an answer is kept (`cache TTL`, `success CAP TTL`): 3600 s in CoreDNS. */
  successTtl: number;
  /** Longest a denial is kept (`denial CAP TTL`): 1800 s in CoreDNS. */
  denialTtl: number;
  /** Shortest time anything is kept (CoreDNS MINTTL, default 5 s). */
  minTtl: number;
}

export function defaultCacheLimits(): CacheLimits {
  // CoreDNS: 9984 entries per cache (256 shards × 39), max TTL 3600/1800, min TTL 5.
  return { successCapacity: 9984, denialCapacity: 9984, successTtl: 3600, denialTtl: 1800, minTtl: 5 };
}

interface Entry {
  kind: CacheKind;
  reply: Buffer;
  ttlOffsets: number[];
  /** TTLs as stored (already capped at the entry's lifetime). */
  ttls: number[];
  storedMs: number;
  lifetimeS: number;
  hits: number;
  /** Asked for since it last reached the old end of the list: spared once by eviction. */
  used: boolean;
}

/** A hit: the reply with TTLs aged, and how much of its life is left (for prefetch). */
export interface CacheHit {
  kind: CacheKind;
  reply: Buffer;
  remainingS: number;
  lifetimeS: number;
  hits: number;
}

/**
 * Replies from upstreams, keyed by question (see cacheKey), kept for their
 * smallest TTL clamped to [minTtl, max TTL of their kind]. Served copies
 * carry TTLs reduced by the time spent in the cache, and nothing is served
 * once its lifetime is over. Answers and denials have separate LRU lists so
 * a flood of NXDOMAINs cannot push out good answers. Hand-written: each
 * list is a Map in insertion order (no library needed for that).
 *
 * Eviction is second chance (CLOCK), an approximation of least recently
 * used: a hit only marks its entry, and an oldest entry that was marked goes
 * back to the new end instead of out: a strict LRU's Map delete + set per
 * hit made old-space garbage at query rate
 * (docs/design/dns-memory.md#response-cache-eviction). (CoreDNS itself
 * evicts a random entry.)
 */
export class DnsCache {
  readonly #limits: CacheLimits;
  readonly #now: () => number;
  readonly #lists: Record<CacheKind, Map<string, Entry>> = { success: new Map(), denial: new Map() };
  /** Entries' bytes, apart from the per-query garbage (kept-bytes.ts). */
  readonly #kept = new KeptBytes();

  constructor(limits: CacheLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  size(kind: CacheKind): number {
    return this.#lists[kind].size;
  }

  /** Stores a reply if it is cacheable (answers, NXDOMAIN, NODATA); returns its kind or null. */
  set(key: string, reply: Buffer): CacheKind | null {
    const shape = shapeOf(reply);
    if (!shape.kind) return null;
    const lim = this.#limits;
    let lifetime: number;
    if (shape.kind === 'success') lifetime = Math.min(shape.minTtl ?? lim.minTtl, lim.successTtl);
    // RFC 2308 §5: a denial lives min(SOA TTL, SOA MINIMUM); without a SOA only the minimum.
    else lifetime = Math.min(shape.negativeTtl ?? lim.minTtl, lim.denialTtl);
    lifetime = Math.max(lifetime, Math.min(lim.minTtl, shape.kind === 'success' ? lim.successTtl : lim.denialTtl));
    if (lifetime <= 0) return null;
    const copy = this.#kept.copy(reply);
    const ttls = shape.ttlOffsets.map((o) => Math.min(copy.readUInt32BE(o), lifetime));
    const list = this.#lists[shape.kind];
    const kept = list.get(key);
    if (kept) {
      // A refresh (the entry expired and was asked again, or prefetched):
      // updated where it is, marked as used so eviction spares it once. A
      // delete and re-add per refresh made the long-lived Map rebuild its
      // table every few hundred refreshes (see the class comment).
      kept.reply = copy;
      kept.ttlOffsets = shape.ttlOffsets;
      kept.ttls = ttls;
      kept.storedMs = this.#now();
      kept.lifetimeS = lifetime;
      kept.hits = 0;
      kept.used = true;
      return shape.kind;
    }
    this.#lists[shape.kind === 'success' ? 'denial' : 'success'].delete(key);
    list.set(key, { kind: shape.kind, reply: copy, ttlOffsets: shape.ttlOffsets, ttls, storedMs: this.#now(), lifetimeS: lifetime, hits: 0, used: false });
    const cap = shape.kind === 'success' ? lim.successCapacity : lim.denialCapacity;
    evictOver(list, cap, key);
    return shape.kind;
  }

  /** A fresh copy of the cached reply with aged TTLs, or undefined (absent or expired). */
  get(key: string): CacheHit | undefined {
    let e = this.#lists.success.get(key);
    if (!e) e = this.#lists.denial.get(key);
    if (!e) return undefined;
    const ageMs = this.#now() - e.storedMs;
    // An expired entry stays until it is refreshed in place or evicted.
    if (ageMs >= e.lifetimeS * 1000 || ageMs < 0) return undefined;
    const age = Math.floor(ageMs / 1000);
    const out = Buffer.from(e.reply);
    for (let i = 0; i < e.ttlOffsets.length; i++) out.writeUInt32BE(Math.max(0, e.ttls[i] - age), e.ttlOffsets[i]);
    e.used = true;
    e.hits++;
    return { kind: e.kind, reply: out, remainingS: e.lifetimeS - ageMs / 1000, lifetimeS: e.lifetimeS, hits: e.hits };
  }

  clear(): void {
    this.#lists.success.clear();
    this.#lists.denial.clear();
    this.#kept.startOver();
  }
}

/**
 * Second chance: drops unmarked entries from the old end until `list` fits
 * `cap`; marked ones move to the new end, unmarked, and so does `added`
 * (the entry just stored, not yet asked for) while anything else is left.
 */
function evictOver(list: Map<string, Entry>, cap: number, added: string): void {
  // Each entry is spared at most once per pass, so this ends within 2 × size steps.
  while (list.size > cap) {
    const [key, oldest] = list.entries().next().value!;
    list.delete(key);
    if (key === added && list.size > 0) list.set(key, oldest);
    else if (oldest.used) {
      oldest.used = false;
      list.set(key, oldest);
    }
  }
}

/** qname (lowercased) + qtype + qclass + DO bit, as CoreDNS keys its cache. */
export function cacheKey(name: string, qtype: number, qclass: number, dnssecOk: boolean): string {
  return `${name}|${qtype}|${qclass}|${dnssecOk ? 1 : 0}`;
}
