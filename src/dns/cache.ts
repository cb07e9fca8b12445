import { shapeOf } from './cache-message.ts';

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
 * a flood of NXDOMAINs cannot push out good answers. Hand-written: the LRU
 * is a Map in insertion order (no library needed for that).
 */
export class DnsCache {
  readonly #limits: CacheLimits;
  readonly #now: () => number;
  readonly #lists: Record<CacheKind, Map<string, Entry>> = { success: new Map(), denial: new Map() };

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
    const copy = Buffer.from(reply);
    const ttls = shape.ttlOffsets.map((o) => Math.min(copy.readUInt32BE(o), lifetime));
    const list = this.#lists[shape.kind];
    const other = this.#lists[shape.kind === 'success' ? 'denial' : 'success'];
    other.delete(key);
    list.delete(key);
    list.set(key, { kind: shape.kind, reply: copy, ttlOffsets: shape.ttlOffsets, ttls, storedMs: this.#now(), lifetimeS: lifetime, hits: 0 });
    const cap = shape.kind === 'success' ? lim.successCapacity : lim.denialCapacity;
    while (list.size > cap) list.delete(list.keys().next().value!);
    return shape.kind;
  }

  /** A fresh copy of the cached reply with aged TTLs, or undefined (absent or expired). */
  get(key: string): CacheHit | undefined {
    let e = this.#lists.success.get(key);
    let list = this.#lists.success;
    if (!e) {
      e = this.#lists.denial.get(key);
      list = this.#lists.denial;
    }
    if (!e) return undefined;
    const ageMs = this.#now() - e.storedMs;
    if (ageMs >= e.lifetimeS * 1000 || ageMs < 0) {
      list.delete(key);
      return undefined;
    }
    const age = Math.floor(ageMs / 1000);
    const out = Buffer.from(e.reply);
    for (let i = 0; i < e.ttlOffsets.length; i++) out.writeUInt32BE(Math.max(0, e.ttls[i] - age), e.ttlOffsets[i]);
    // Most recently used goes to the end of the LRU order.
    list.delete(key);
    list.set(key, e);
    e.hits++;
    return { kind: e.kind, reply: out, remainingS: e.lifetimeS - ageMs / 1000, lifetimeS: e.lifetimeS, hits: e.hits };
  }

  clear(): void {
    this.#lists.success.clear();
    this.#lists.denial.clear();
  }
}

/** qname (lowercased) + qtype + qclass + DO bit, as CoreDNS keys its cache. */
export function cacheKey(name: string, qtype: number, qclass: number, dnssecOk: boolean): string {
  return `${name}|${qtype}|${qclass}|${dnssecOk ? 1 : 0}`;
}
