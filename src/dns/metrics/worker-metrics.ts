import type { Registry } from 'prom-client';
import type { CacheEvents } from '../cache/caching-forwarder.ts';
import type { CacheKind } from '../cache/dns-cache.ts';
import type { ForwardEvents } from '../forward/upstream-forwarder.ts';
import { createForwardMetrics, addWorkerCacheCounts, setWorkerCacheSizes } from './coredns-metrics.ts';

// The forward and cache metrics of DNS worker threads (workers/dns-workers.ts),
// summed into the main thread's coredns_forward_* / coredns_proxy_* /
// coredns_cache_* so that :9153 shows the whole server, as one CoreDNS
// process does. A worker counts events in plain numbers and posts what
// accumulated every flush; the main thread adds it to its prom-client
// metrics (one inc(n) per label set, not one call per query).

/** What a worker posts: counts since its previous post, and its cache sizes now. */
export interface WorkerMetricsBatch {
  /** [upstream, count] */
  requests: Array<[string, number]>;
  /** [upstream, rcode, duration ms] per answered upstream query (cache misses only: few). */
  responses: Array<[string, number, number]>;
  healthcheckFailures: Array<[string, number]>;
  healthcheckBroken: number;
  maxConcurrentRejects: number;
  cache: { success: number; denial: number; misses: number; prefetches: number; stale: number };
  cacheSizes: { success: number; denial: number } | null;
}

/** In a worker: the events its forwarder and cache report into, drained by take(). */
export class WorkerMetricsRecorder {
  #requests = new Map<string, number>();
  #responses: Array<[string, number, number]> = [];
  #hcFailures = new Map<string, number>();
  #broken = 0;
  #rejects = 0;
  #cache = { success: 0, denial: 0, misses: 0, prefetches: 0, stale: 0 };
  #dirty = false;
  /** Set once the forwarder exists: reads the worker's cache sizes at each take(). */
  cacheSizes: ((kind: CacheKind) => number) | null = null;

  readonly forward: ForwardEvents = {
    request: (to) => {
      this.#requests.set(to, (this.#requests.get(to) ?? 0) + 1);
      this.#dirty = true;
    },
    response: (to, rcode, ms) => {
      this.#responses.push([to, rcode, ms]);
      this.#dirty = true;
    },
    healthcheckFailure: (to) => {
      this.#hcFailures.set(to, (this.#hcFailures.get(to) ?? 0) + 1);
      this.#dirty = true;
    },
    healthcheckBroken: () => {
      this.#broken++;
      this.#dirty = true;
    },
    maxConcurrentReject: () => {
      this.#rejects++;
      this.#dirty = true;
    },
  };

  readonly cache: CacheEvents = {
    hit: (kind) => {
      this.#cache[kind]++;
      this.#dirty = true;
    },
    miss: () => {
      this.#cache.misses++;
      this.#dirty = true;
    },
    prefetch: () => {
      this.#cache.prefetches++;
      this.#dirty = true;
    },
    servedStale: () => {
      this.#cache.stale++;
      this.#dirty = true;
    },
  };

  #lastSizes = '';

  /** What accumulated since the last call, or null when nothing changed. */
  take(): WorkerMetricsBatch | null {
    const sizes = this.cacheSizes ? { success: this.cacheSizes('success'), denial: this.cacheSizes('denial') } : null;
    const sizesKey = sizes ? `${sizes.success}/${sizes.denial}` : '';
    if (!this.#dirty && sizesKey === this.#lastSizes) return null;
    this.#lastSizes = sizesKey;
    const batch: WorkerMetricsBatch = {
      requests: [...this.#requests],
      responses: this.#responses,
      healthcheckFailures: [...this.#hcFailures],
      healthcheckBroken: this.#broken,
      maxConcurrentRejects: this.#rejects,
      cache: this.#cache,
      cacheSizes: sizes,
    };
    this.#requests = new Map();
    this.#responses = [];
    this.#hcFailures = new Map();
    this.#broken = 0;
    this.#rejects = 0;
    this.#cache = { success: 0, denial: 0, misses: 0, prefetches: 0, stale: 0 };
    this.#dirty = false;
    return batch;
  }
}

/**
 * In the main thread: adds one worker's batch to the registry's metrics.
 * `server`/`zones` are the cache metrics' labels (the main thread's own).
 */
export function applyWorkerMetrics(registry: Registry, worker: number, labels: { server: string; zones: string }, b: WorkerMetricsBatch): void {
  const fwd = createForwardMetrics(registry);
  for (const [to, n] of b.requests) fwd.addRequests(to, n);
  for (const [to, rcode, ms] of b.responses) fwd.response!(to, rcode, ms);
  for (const [to, n] of b.healthcheckFailures) for (let i = 0; i < n; i++) fwd.healthcheckFailure!(to);
  for (let i = 0; i < b.healthcheckBroken; i++) fwd.healthcheckBroken!();
  for (let i = 0; i < b.maxConcurrentRejects; i++) fwd.maxConcurrentReject!();
  addWorkerCacheCounts(registry, labels, b.cache);
  if (b.cacheSizes) setWorkerCacheSizes(registry, worker, labels, b.cacheSizes);
}
