import { cacheKey, DnsCache } from './dns-cache.ts';
import type { CacheHit, CacheKind } from './dns-cache.ts';
import { cacheCovers, cacheKeeps } from './cache-settings.ts';
import type { CacheSettings } from './cache-settings.ts';
import type { Forwarder } from '../forward/forwarder.ts';
import { questionOf } from '../forward/message.ts';
import type { Question } from '../forward/message.ts';
import { Rcode } from '../wire/constants.ts';

export interface CacheEvents {
  hit?(kind: CacheKind): void;
  miss?(): void;
  prefetch?(): void;
  /** An expired entry was answered (serve_stale): coredns_cache_served_stale_total. */
  servedStale?(): void;
}

export interface CachingOptions {
  limits: CacheSettings;
  /**
   * CoreDNS `prefetch AMOUNT`; overrides `limits.prefetch.amount` when
   * given (the older way of passing it).
   */
  prefetch?: number;
  now?: () => number;
  events?: CacheEvents;
}

/** The AD bit (RFC 4035 §3.2.3), in the second 16-bit word. */
const FLAG_AD = 0x0020;

/**
 * The `cache` plugin in front of the forwarder: answers repeated questions
 * from memory with the client's ID and the client's spelling of the name
 * (DNS 0x20 clients check both), and stores what the upstream said, capped
 * as CoreDNS caps it (cache/dns-cache.ts). Names outside the cache's zones
 * pass through untouched.
 */
export class CachingForwarder implements Forwarder {
  readonly cache: DnsCache;
  readonly #next: Forwarder;
  readonly #events: CacheEvents;
  readonly #settings: CacheSettings;
  readonly #refreshing = new Set<string>();
  /** serve_stale FAILURE_RECHECK: when each entry's last refresh failed (ms), while that is recent. */
  readonly #failedAt = new Map<string, number>();
  readonly #now: () => number;

  constructor(next: Forwarder, opts: CachingOptions) {
    this.#next = next;
    this.#settings = opts.prefetch === undefined ? opts.limits : { ...opts.limits, prefetch: { ...opts.limits.prefetch, amount: opts.prefetch } };
    this.cache = new DnsCache(this.#settings, opts.now);
    this.#now = opts.now ?? Date.now;
    this.#events = opts.events ?? {};
  }

  /**
   * The cached reply for `query`, now (no promise: the server answers a hit
   * within the same batch), or null on a miss, and for a stale entry that
   * `serve_stale … verify` must first try to refresh. `q` is the question
   * when the caller has already read it.
   */
  lookup(query: Buffer, q: Question | null = questionOf(query)): Buffer | null {
    if (!q || !cacheCovers(this.#settings, q.name)) return null;
    const key = cacheKey(q.name, q.qtype, q.qclass, q.dnssecOk);
    const hit = this.cache.get(key);
    if (!hit || (hit.stale && this.#settings.serveStale?.verify)) return null;
    return this.#answer(query, q, key, hit);
  }

  // Not an async function: a burst of misses waits at once, each holding one
  // promise and one closure (docs/design/dns-memory.md#forwarded-queries).
  forward(query: Buffer, proto?: 'udp' | 'tcp', question: Question | null = questionOf(query)): Promise<Buffer | null> {
    const q = question;
    if (!q || !cacheCovers(this.#settings, q.name)) return this.#next.forward(query, proto, q);
    const key = cacheKey(q.name, q.qtype, q.qclass, q.dnssecOk);
    const hit = this.cache.get(key);
    if (hit && hit.stale && this.#settings.serveStale?.verify) return this.#verifyStale(query, proto, q, key, hit);
    if (hit) return Promise.resolve(this.#answer(query, q, key, hit));
    this.#events.miss?.();
    return this.#next.forward(query, proto, q).then((reply) => (reply ? this.#store(query, q, key, reply) : reply));
  }

  #answer(query: Buffer, q: Question, key: string, hit: CacheHit): Buffer {
    this.#events.hit?.(hit.kind);
    // A copy of its own (DnsCache.get): hits sent together in one batch share no bytes.
    const reply = hit.reply;
    reply.writeUInt16BE(query.readUInt16BE(0), 0);
    // The question as the client wrote it (same length: only the case can differ).
    if (reply.length >= q.questionEnd) query.copy(reply, 12, 12, q.questionEnd);
    clearAdUnlessAsked(reply, query, q);
    if (hit.stale) this.#events.servedStale?.();
    // serve_stale immediate refreshes after answering; verify has just tried.
    if (hit.stale ? !this.#settings.serveStale?.verify && !this.#rechecking(key) : this.#wantsPrefetch(hit)) this.#refresh(key, query, hit.stale);
    return reply;
  }

  /** serve_stale FAILURE_RECHECK: true while the entry's last failed refresh is too recent to try again. */
  #rechecking(key: string): boolean {
    const wait = this.#settings.serveStale?.failureRecheckMs ?? 0;
    const at = this.#failedAt.get(key);
    if (wait <= 0 || at === undefined) return false;
    if (this.#now() - at < wait) return true;
    this.#failedAt.delete(key);
    return false;
  }

  /** A refresh of a stale entry got no usable answer: with FAILURE_RECHECK, note when. */
  #refreshFailed(key: string): void {
    if ((this.#settings.serveStale?.failureRecheckMs ?? 0) <= 0) return;
    this.#failedAt.delete(key);
    this.#failedAt.set(key, this.#now());
    // Bounded as the cache is: the oldest failure goes first (a Map keeps insertion order).
    if (this.#failedAt.size > this.#settings.successCapacity + this.#settings.denialCapacity) this.#failedAt.delete(this.#failedAt.keys().next().value!);
  }

  /** plugin/cache shouldPrefetch: popular enough, and at most PERCENTAGE of its life left (at least the last second). */
  #wantsPrefetch(hit: CacheHit): boolean {
    const p = this.#settings.prefetch;
    if (p.amount <= 0 || hit.hits < p.amount) return false;
    return hit.ttl <= Math.ceil((p.percentage / 100) * hit.lifetimeS);
  }

  #store(query: Buffer, q: Question, key: string, reply: Buffer): Buffer {
    // The class (and so whether a `disable` zone applies) is known only once set() has read the reply.
    const stored = this.cache.set(key, reply, (cls) => cacheKeeps(this.#settings, cls, q.name));
    const out = stored.reply;
    clearAdUnlessAsked(out, query, q);
    return out;
  }

  /**
   * serve_stale verify: ask the upstream first; a NOERROR or NXDOMAIN answer
   * replaces the entry and is sent, anything else (no answer, SERVFAIL…)
   * sends the stale entry (RFC 8767 §4). With VERIFY_TIMEOUT the stale
   * entry is sent once it passes, and a later good answer still refreshes
   * the entry; with FAILURE_RECHECK, while a verify is under way or failed
   * recently, the stale entry is sent without asking.
   */
  #verifyStale(query: Buffer, proto: 'udp' | 'tcp' | undefined, q: Question, key: string, hit: CacheHit): Promise<Buffer | null> {
    const st = this.#settings.serveStale;
    const stale = () => this.#answer(query, q, key, hit);
    if ((st?.failureRecheckMs ?? 0) > 0 && (this.#refreshing.has(key) || this.#rechecking(key))) return Promise.resolve(stale());
    this.#refreshing.add(key);
    const fresh = this.#next.forward(query, proto, q).then(
      (reply) => {
        const rcode = reply && reply.length >= 12 ? reply[3] & 0xf : -1;
        if (reply && (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN)) {
          // prefer_positive: only an answer replaces the stale answer sent; a denial is kept beside it.
          if (!this.#settings.preferPositive || reply.readUInt16BE(6) > 0 || hit.kind !== 'success') return reply;
          this.cache.set(key, reply, (cls) => cacheKeeps(this.#settings, cls, q.name));
          return null;
        }
        this.#refreshFailed(key);
        return null;
      },
      () => {
        this.#refreshFailed(key);
        return null;
      },
    ).finally(() => this.#refreshing.delete(key));
    const timeoutMs = st?.verifyTimeoutMs ?? 0;
    if (timeoutMs <= 0) return fresh.then((reply) => (reply ? this.#store(query, q, key, reply) : stale()));
    return new Promise((resolve) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        resolve(stale());
      }, timeoutMs);
      void fresh.then((reply) => {
        if (!late) {
          clearTimeout(timer);
          resolve(reply ? this.#store(query, q, key, reply) : stale());
        } else if (reply) {
          this.cache.set(key, reply, (cls) => cacheKeeps(this.#settings, cls, q.name));
        }
      });
    });
  }

  #refresh(key: string, query: Buffer, stale = false): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    this.#events.prefetch?.();
    const copy = Buffer.from(query);
    const q = questionOf(copy);
    // With FAILURE_RECHECK a failed refresh of a stale entry leaves the entry as it was (plugin/cache README).
    const keepsStale = stale && (this.#settings.serveStale?.failureRecheckMs ?? 0) > 0;
    this.#next.forward(copy, undefined, q).then(
      (reply) => {
        const rcode = reply && reply.length >= 12 ? reply[3] & 0xf : -1;
        const usable = reply && (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN);
        if (keepsStale && !usable) return this.#refreshFailed(key);
        if (reply && q) this.cache.set(key, reply, (cls) => cacheKeeps(this.#settings, cls, q.name));
      },
      () => {
        if (keepsStale) this.#refreshFailed(key);
      },
    ).finally(() => this.#refreshing.delete(key));
  }
}

/** CoreDNS clears AD unless the client set DO or AD (RFC 6840 §5.7–5.8). */
function clearAdUnlessAsked(reply: Buffer, query: Buffer, q: Question): void {
  if (q.dnssecOk || (query.readUInt16BE(2) & FLAG_AD) || reply.length < 4) return;
  reply.writeUInt16BE(reply.readUInt16BE(2) & ~FLAG_AD, 2);
}
