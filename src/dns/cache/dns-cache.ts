import { cappedCopy, cappedTtlOffsets, shapeOf } from './reply-shape.ts';
import { KeptBytes } from './kept-bytes.ts';
import { cacheDuration, defaultCacheSettings } from './cache-settings.ts';
import type { CacheKind, CacheSettings, ReplyClass } from './cache-settings.ts';
import { FLAG_AA } from '../wire/constants.ts';

export type { CacheKind } from './cache-settings.ts';

/** The `cache` plugin's settings; the name is older than the plugin's other properties. */
export type CacheLimits = CacheSettings;

export function defaultCacheLimits(): CacheLimits {
  return defaultCacheSettings();
}

interface Entry {
  kind: CacheKind;
  /** The reply as stored: no OPT, every TTL the entry's lifetime. */
  reply: Buffer;
  ttlOffsets: number[];
  storedMs: number;
  lifetimeS: number;
  /** Hits with no gap of the prefetch DURATION between them (CoreDNS's freq.Freq). */
  hits: number;
  lastHitMs: number;
  /** Asked for since it last reached the old end of the list: spared once by eviction. */
  used: boolean;
}

/** True when a reply (a DNS message) has answer records (ANCOUNT > 0). */
const answers = (reply: Buffer): boolean => reply.length >= 12 && reply.readUInt16BE(6) > 0;

/** A hit: the reply with aged TTLs and AA set, what TTL it carries, and whether it is past its life (serve_stale). */
export interface CacheHit {
  kind: CacheKind;
  reply: Buffer;
  /** Seconds of life left, 0 once expired. */
  ttl: number;
  lifetimeS: number;
  hits: number;
  stale: boolean;
}

/** What set() made of an upstream's reply: the copy to answer with (TTLs capped, no OPT) and how long it is kept (0: not kept). */
export interface Stored {
  cls: ReplyClass;
  durationS: number;
  reply: Buffer;
}

/**
 * Replies from upstreams, keyed by question (see cacheKey), as CoreDNS's
 * cache keeps them: each lives for its smallest TTL clamped to [MINTTL,
 * TTL] of its kind (SERVFAIL: the `servfail` duration), every record of a
 * served copy carries the life left (or, with `keepttl`, the life it was
 * stored with), and with `serve_stale` an expired entry is still answered,
 * with TTL 0, for that long. Answers and denials have separate lists so a
 * flood of NXDOMAINs cannot push out good answers. Hand-written: each list
 * is a Map in insertion order (no library needed for that).
 *
 * Eviction is second chance (CLOCK), an approximation of least recently
 * used: a hit only marks its entry, and an oldest entry that was marked goes
 * back to the new end instead of out: a strict LRU's Map delete + set per
 * hit made old-space garbage at query rate
 * (docs/design/dns-memory.md#response-cache-eviction). (CoreDNS itself
 * evicts a random entry.)
 */
export class DnsCache {
  readonly #settings: CacheSettings;
  readonly #now: () => number;
  readonly #lists: Record<CacheKind, Map<string, Entry>> = { success: new Map(), denial: new Map() };
  /** Entries' bytes, apart from the per-query garbage (kept-bytes.ts). */
  readonly #kept = new KeptBytes();

  constructor(settings: CacheSettings, now: () => number = Date.now) {
    this.#settings = settings;
    this.#now = now;
  }

  size(kind: CacheKind): number {
    return this.#lists[kind].size;
  }

  /**
   * Caps an upstream's reply as CoreDNS does for every reply through its
   * cache, and keeps it when it is cacheable and `keep` says so for its
   * class (false: a `disable` zone). The returned copy is the one to answer with.
   */
  set(key: string, reply: Buffer, keep: (cls: ReplyClass) => boolean = () => true): Stored {
    const shape = shapeOf(reply);
    const durationS = cacheDuration(this.#settings, shape.cls, shape.minTtl);
    const capped = shape.cls === null ? reply : cappedCopy(reply, shape, durationS);
    if (shape.cls === null || durationS <= 0 || !keep(shape.cls)) return { cls: shape.cls, durationS: 0, reply: capped };
    const kind: CacheKind = shape.cls === 'success' ? 'success' : 'denial';
    const held = this.#lists.success.get(key);
    // prefer_positive: a reply that answers nothing does not replace a kept answer that does (plugin/cache README).
    if (this.#prefersPositive() && kind === 'success' && !answers(capped) && held && answers(held.reply)) return { cls: shape.cls, durationS: 0, reply: capped };
    const copy = this.#kept.copy(capped);
    const ttlOffsets = cappedTtlOffsets(shape);
    const list = this.#lists[kind];
    const kept = list.get(key);
    const now = this.#now();
    if (kept) {
      // A refresh (the entry expired and was asked again, or prefetched):
      // updated where it is, keeping its hit count (CoreDNS carries the
      // frequency over to the refreshed item), marked as used so eviction
      // spares it once. A delete and re-add per refresh made the long-lived
      // Map rebuild its table every few hundred refreshes (see the class comment).
      kept.reply = copy;
      kept.ttlOffsets = ttlOffsets;
      kept.storedMs = now;
      kept.lifetimeS = durationS;
      kept.used = true;
      return { cls: shape.cls, durationS, reply: capped };
    }
    // prefer_positive keeps the answer beside a later denial or failure; otherwise one reply per question.
    if (!(this.#prefersPositive() && kind === 'denial')) this.#lists[kind === 'success' ? 'denial' : 'success'].delete(key);
    list.set(key, { kind, reply: copy, ttlOffsets, storedMs: now, lifetimeS: durationS, hits: 0, lastHitMs: now, used: false });
    const cap = kind === 'success' ? this.#settings.successCapacity : this.#settings.denialCapacity;
    evictOver(list, cap, key);
    return { cls: shape.cls, durationS, reply: capped };
  }

  /** A fresh copy of the cached reply with aged TTLs, or undefined (absent, or expired beyond serve_stale). */
  get(key: string): CacheHit | undefined {
    const now = this.#now();
    let e = this.#lists.success.get(key);
    // prefer_positive: a kept answer past serve_stale's window, or that answers nothing, gives way to the denial.
    if (e && this.#prefersPositive() && this.#lists.denial.has(key) && (!answers(e.reply) || this.#pastStale(e, now))) e = undefined;
    if (!e) e = this.#lists.denial.get(key);
    if (!e) return undefined;
    // Whole seconds, as CoreDNS's int(now.Sub(stored).Seconds()); a clock gone back counts as no age.
    const age = Math.max(0, Math.floor((now - e.storedMs) / 1000));
    let ttl = e.lifetimeS - age;
    let stale = false;
    if (ttl <= 0) {
      const st = this.#settings.serveStale;
      // An expired entry stays until it is refreshed in place or evicted.
      if (!st || -ttl >= st.upToS) return undefined;
      stale = true;
      ttl = 0;
    }
    if (now - e.lastHitMs >= this.#settings.prefetch.durationMs) e.hits = 1;
    else e.hits++;
    e.lastHitMs = now;
    e.used = true;
    const out = Buffer.from(e.reply);
    // A stale answer carries serve_stale's RESPONSE_TTL (0 unless set; RFC 8767 §4 suggests 30).
    const answered = this.#settings.keepTtl ? e.lifetimeS : stale ? (this.#settings.serveStale?.responseTtlS ?? 0) : ttl;
    for (const at of e.ttlOffsets) out.writeUInt32BE(answered, at);
    // CoreDNS sets AA on every answer from its cache (some stub resolvers drop replies without it).
    out.writeUInt16BE(out.readUInt16BE(2) | FLAG_AA, 2);
    return { kind: e.kind, reply: out, ttl, lifetimeS: e.lifetimeS, hits: e.hits, stale };
  }

  #prefersPositive(): boolean {
    return this.#settings.preferPositive === true && this.#settings.serveStale !== null;
  }

  /** True when `e` has expired for longer than serve_stale answers it. */
  #pastStale(e: Entry, now: number): boolean {
    const ttl = e.lifetimeS - Math.max(0, Math.floor((now - e.storedMs) / 1000));
    return ttl <= 0 && (!this.#settings.serveStale || -ttl >= this.#settings.serveStale.upToS);
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
