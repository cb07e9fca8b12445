import { cacheKey, DnsCache } from './dns-cache.ts';
import type { CacheKind, CacheLimits } from './dns-cache.ts';
import type { Forwarder } from '../forward/forwarder.ts';
import { questionOf } from '../forward/message.ts';
import type { Question } from '../forward/message.ts';

export interface CacheEvents {
  hit?(kind: CacheKind): void;
  miss?(): void;
  prefetch?(): void;
}

export interface CachingOptions {
  limits: CacheLimits;
  /** CoreDNS `prefetch AMOUNT`: an entry hit this often is refreshed when 10% of its life is left; 0 = off. */
  prefetch: number;
  now?: () => number;
  events?: CacheEvents;
}

/** CoreDNS's prefetch threshold: the last 10% of an entry's life (plugin/cache README), at least the last second. */
const PREFETCH_FRACTION = 0.1;

/**
 * The `cache` plugin in front of the forwarder: answers repeated questions
 * from memory with the client's ID and the client's spelling of the name
 * (DNS 0x20 clients check both), and stores what the upstream said.
 */
export class CachingForwarder implements Forwarder {
  readonly cache: DnsCache;
  readonly #next: Forwarder;
  readonly #events: CacheEvents;
  readonly #prefetch: number;
  readonly #refreshing = new Set<string>();

  constructor(next: Forwarder, opts: CachingOptions) {
    this.#next = next;
    this.cache = new DnsCache(opts.limits, opts.now);
    this.#events = opts.events ?? {};
    this.#prefetch = opts.prefetch;
  }

  /**
   * The cached reply for `query`, now (no promise: the server answers a hit
   * within the same batch), or null on a miss. `q` is the question when the
   * caller has already read it.
   */
  lookup(query: Buffer, q: Question | null = questionOf(query)): Buffer | null {
    if (!q) return null;
    return this.#hit(query, q, cacheKey(q.name, q.qtype, q.qclass, q.dnssecOk));
  }

  #hit(query: Buffer, q: { questionEnd: number }, key: string): Buffer | null {
    const hit = this.cache.get(key);
    if (!hit) return null;
    this.#events.hit?.(hit.kind);
    // A copy of its own (DnsCache.get): hits sent together in one batch share no bytes.
    const reply = hit.reply;
    reply.writeUInt16BE(query.readUInt16BE(0), 0);
    // The question as the client wrote it (same length: only the case can differ).
    if (reply.length >= q.questionEnd) query.copy(reply, 12, 12, q.questionEnd);
    if (this.#prefetch > 0 && hit.hits >= this.#prefetch && hit.remainingS <= Math.max(1, hit.lifetimeS * PREFETCH_FRACTION)) this.#refresh(key, query);
    return reply;
  }

  // Not an async function: a burst of misses waits at once, each holding one
  // promise and one closure (docs/design/dns-memory.md#forwarded-queries).
  forward(query: Buffer, proto?: 'udp' | 'tcp', question: Question | null = questionOf(query)): Promise<Buffer | null> {
    const q = question;
    if (!q) return this.#next.forward(query, proto);
    const key = cacheKey(q.name, q.qtype, q.qclass, q.dnssecOk);
    const hit = this.#hit(query, q, key);
    if (hit) return Promise.resolve(hit);
    this.#events.miss?.();
    return this.#next.forward(query, proto, q).then((reply) => {
      if (reply) this.cache.set(key, reply);
      return reply;
    });
  }

  #refresh(key: string, query: Buffer): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    this.#events.prefetch?.();
    this.#next.forward(Buffer.from(query)).then(
      (reply) => {
        if (reply) this.cache.set(key, reply);
      },
      () => {},
    ).finally(() => this.#refreshing.delete(key));
  }
}
