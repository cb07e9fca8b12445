// The `cache` plugin's settings (plugin/cache README) and its rules for how
// long a reply lives, shared by the cache of forwarded answers
// (caching-forwarder.ts) and the ageing of the kubernetes zones' answers
// (answer/handler.ts): CoreDNS's cache sits in front of both.

export type CacheKind = 'success' | 'denial';

/** How CoreDNS classes a reply for its cache (plugin/pkg/response Typify); null: not cached. */
export type ReplyClass = 'success' | 'denial' | 'servfail' | null;

export interface CacheSettings {
  /** `cache [TTL] [ZONES...]`: the zones cached, absolute; ['.'] for all. */
  zones: string[];
  /** Most entries kept of each kind; the least recently used goes first. */
  successCapacity: number;
  denialCapacity: number;
  /** Longest an answer is kept (`cache TTL`, `success CAP TTL`): 3600 s in CoreDNS. */
  successTtl: number;
  /** Longest a denial is kept (`denial CAP TTL`): 1800 s in CoreDNS. */
  denialTtl: number;
  /** Shortest time an answer / a denial is kept (`success CAP TTL MINTTL`; default 5 s). */
  successMinTtl: number;
  denialMinTtl: number;
  /** `servfail DURATION`: how long SERVFAIL (and NOTIMP) replies are kept, seconds; 0 = not at all. */
  servfailTtl: number;
  /** `prefetch AMOUNT [DURATION] [PERCENTAGE%]`; amount 0 = off. */
  prefetch: { amount: number; durationMs: number; percentage: number };
  /**
   * `serve_stale [DURATION] [immediate [RESPONSE_TTL [FAILURE_RECHECK]] |
   * verify [VERIFY_TIMEOUT [RESPONSE_TTL [FAILURE_RECHECK]]]]`: expired
   * entries answered this long after they expire; null = off. Unset
   * numbers are 0: wait for the upstream, answer TTL 0, retry at once.
   */
  serveStale: { upToS: number; verify: boolean; verifyTimeoutMs?: number; responseTtlS?: number; failureRecheckMs?: number } | null;
  /** `serve_stale_policy prefer_positive`: with serve_stale, a kept answer wins over a later denial or failure. */
  preferPositive?: boolean;
  /** `disable success|denial [ZONES...]`: names in these zones are not cached of that kind. */
  disableSuccess: string[];
  disableDenial: string[];
  /** `keepttl`: answer the TTL the entry was stored with instead of the remaining one. */
  keepTtl: boolean;
}

/** CoreDNS's defaults: 9984 entries per cache (256 shards × 39), max TTL 3600/1800, min TTL 5, SERVFAIL 5 s. */
export function defaultCacheSettings(): CacheSettings {
  return {
    zones: ['.'],
    successCapacity: 9984,
    denialCapacity: 9984,
    successTtl: 3600,
    denialTtl: 1800,
    successMinTtl: 5,
    denialMinTtl: 5,
    servfailTtl: 5,
    prefetch: { amount: 0, durationMs: 60_000, percentage: 10 },
    serveStale: null,
    disableSuccess: [],
    disableDenial: [],
    keepTtl: false,
  };
}

/** plugin/pkg/dnsutil: the TTL CoreDNS assumes for a message with no records, and its ceiling. */
export const MINIMAL_DEFAULT_TTL = 5;
export const MAXIMUM_DEFAULT_TTL = 3600;

function within(name: string, zones: readonly string[]): boolean {
  for (const z of zones) if (z === '.' || name === z || name.endsWith(`.${z}`)) return true;
  return false;
}

/** `name` (lowercase, absolute) is in the zones the cache serves. */
export function cacheCovers(settings: CacheSettings, name: string): boolean {
  return within(name, settings.zones);
}

/**
 * Seconds a reply of class `cls` whose lowest record TTL is `minTtl` (null:
 * no records) lives in the cache, which is also the TTL every one of its
 * records is answered with (CoreDNS caps the whole message: "to avoid
 * jarring TTL experience 1799 -> 8"). 0: not cached.
 */
export function cacheDuration(settings: CacheSettings, cls: ReplyClass, minTtl: number | null): number {
  if (cls === null) return 0;
  if (cls === 'servfail') return settings.servfailTtl;
  const msgTtl = minTtl === null ? MINIMAL_DEFAULT_TTL : Math.min(minTtl, MAXIMUM_DEFAULT_TTL);
  const [min, max] = cls === 'success' ? [settings.successMinTtl, settings.successTtl] : [settings.denialMinTtl, settings.denialTtl];
  return Math.min(Math.max(msgTtl, min), max);
}

/** False when `disable success|denial ZONES` excludes `name` from the cache of that kind (SERVFAIL goes with denials). */
export function cacheKeeps(settings: CacheSettings, cls: ReplyClass, name: string): boolean {
  if (cls === null) return false;
  return !within(name, cls === 'success' ? settings.disableSuccess : settings.disableDenial);
}
