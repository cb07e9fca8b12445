import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CacheEvents } from '../cache/caching-forwarder.ts';
import type { CacheKind } from '../cache/dns-cache.ts';
import type { Observation } from '../answer/handler.ts';
import type { ForwardEvents } from '../forward/upstream-forwarder.ts';
import { rcodeName } from '../wire/constants.ts';
import { DnsRequestStats, TIME_BUCKETS } from './query-metrics.ts';
import type { DnsMetricLabels } from './query-metrics.ts';

// CoreDNS 1.11's metric names and labels (plugin/metrics, plugin/cache,
// plugin/forward), so dashboards and alerts written for CoreDNS work.

/**
 * The server's `observe` hook: coredns_dns_requests_total,
 * coredns_dns_responses_total and coredns_dns_request_duration_seconds
 * (accumulated outside prom-client, see query-metrics.ts).
 */
export function createDnsMetrics(registry: Registry, labels: DnsMetricLabels = { server: 'dns://:53', zone: '.', family: '1' }): DnsObserve {
  const stats = new DnsRequestStats(labels);
  stats.register(registry);
  return Object.assign(stats.observe, { forServer: (server: string, zones: readonly string[]) => stats.forServer(server, zones) });
}

/** The observe hook, and the one of a server block under its own `server` and `zone` labels. */
export type DnsObserve = ((o: Observation) => void) & { forServer?: (server: string, zones: readonly string[]) => (o: Observation) => void };

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function cacheCounters(registry: Registry) {
  return {
    hits: metric(registry, 'coredns_cache_hits_total', () => new Counter({
      name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type', 'zones', 'view'], registers: [registry],
    })),
    misses: metric(registry, 'coredns_cache_misses_total', () => new Counter({
      name: 'coredns_cache_misses_total', help: 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
      labelNames: ['server', 'zones', 'view'], registers: [registry],
    })),
    requests: metric(registry, 'coredns_cache_requests_total', () => new Counter({
      name: 'coredns_cache_requests_total', help: 'The count of cache requests.', labelNames: ['server', 'zones', 'view'], registers: [registry],
    })),
    prefetches: metric(registry, 'coredns_cache_prefetch_total', () => new Counter({
      name: 'coredns_cache_prefetch_total', help: 'The number of times the cache has prefetched a cached item.', labelNames: ['server', 'zones', 'view'], registers: [registry],
    })),
    stale: metric(registry, 'coredns_cache_served_stale_total', () => new Counter({
      name: 'coredns_cache_served_stale_total', help: 'The number of requests served from stale cache entries.', labelNames: ['server', 'zones', 'view'], registers: [registry],
    })),
  };
}

/**
 * What coredns_cache_entries reads at scrape time, per registry: each server
 * block's cache sizes (by its server and zones labels), and worker threads'
 * (worker-metrics.ts) by worker and block.
 */
interface CacheEntrySources {
  blocks: Map<string, { server: string; zones: string; sizes: (kind: CacheKind) => number }>;
  workers: Map<number, Map<string, { success: number; denial: number }>>;
}
const cacheEntrySources = new WeakMap<Registry, CacheEntrySources>();
const labelKey = (server: string, zones: string) => `${server}\n${zones}`;

function entrySources(registry: Registry): CacheEntrySources {
  let s = cacheEntrySources.get(registry);
  if (!s) cacheEntrySources.set(registry, (s = { blocks: new Map(), workers: new Map() }));
  return s;
}

/** A worker's cache sizes for one block's labels; null forgets every block of that worker (it stopped). */
export function setWorkerCacheSizes(registry: Registry, worker: number, labels: { server: string; zones: string }, sizes: { success: number; denial: number } | null): void {
  const { workers } = entrySources(registry);
  if (!sizes) return void workers.delete(worker);
  let m = workers.get(worker);
  if (!m) workers.set(worker, (m = new Map()));
  m.set(labelKey(labels.server, labels.zones), sizes);
}

/** Forgets the blocks' cache sizes: a reload is about to create the caches again (its blocks may differ). */
export function forgetCacheSizes(registry: Registry): void {
  entrySources(registry).blocks.clear();
}

/** Adds a worker thread's cache counts (since its last report) to the cache counters. */
export function addWorkerCacheCounts(
  registry: Registry,
  labels: { server: string; zones: string },
  c: { success: number; denial: number; misses: number; prefetches: number; stale?: number },
): void {
  const { hits, misses, requests, prefetches, stale } = cacheCounters(registry);
  const base = { server: labels.server, zones: labels.zones, view: '' };
  if (c.success) hits.labels({ ...base, type: 'success' }).inc(c.success);
  if (c.denial) hits.labels({ ...base, type: 'denial' }).inc(c.denial);
  if (c.misses) misses.labels(base).inc(c.misses);
  if (c.success + c.denial + c.misses) requests.labels(base).inc(c.success + c.denial + c.misses);
  if (c.prefetches) prefetches.labels(base).inc(c.prefetches);
  if (c.stale) stale.labels(base).inc(c.stale);
}

/** coredns_cache_* for the forwarder's cache; `sizes` is read at scrape time (plus worker threads' caches). */
export function createCacheMetrics(registry: Registry, server: string, zones: string, sizes: (kind: CacheKind) => number): CacheEvents {
  const { hits, misses, requests, prefetches, stale } = cacheCounters(registry);
  const sources = entrySources(registry);
  sources.blocks.set(labelKey(server, zones), { server, zones, sizes });
  metric(registry, 'coredns_cache_entries', () => new Gauge({
    name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'], registers: [registry],
    collect() {
      this.reset();
      for (const [key, b] of sources.blocks) {
        for (const type of ['success', 'denial'] as const) {
          let n = b.sizes(type);
          for (const w of sources.workers.values()) n += w.get(key)?.[type] ?? 0;
          this.set({ server: b.server, type, zones: b.zones, view: '' }, n);
        }
      }
    },
  }));
  const base = { server, zones, view: '' };
  const hitSuccess = hits.labels({ ...base, type: 'success' });
  const hitDenial = hits.labels({ ...base, type: 'denial' });
  const req = requests.labels(base);
  const miss = misses.labels(base);
  return {
    hit(kind) {
      req.inc();
      (kind === 'success' ? hitSuccess : hitDenial).inc();
    },
    miss() {
      req.inc();
      miss.inc();
    },
    prefetch() {
      prefetches.labels(base).inc();
    },
    servedStale() {
      stale.labels(base).inc();
    },
  };
}

/**
 * The forward plugin's metrics: the names the brief of CoreDNS ≤ 1.10
 * dashboards use (coredns_forward_requests_total{to}, …_responses_total{to,rcode},
 * …_healthcheck_failures_total{to}) and 1.11's coredns_proxy_* successors.
 */
export function createForwardMetrics(registry: Registry): ForwardEvents & { addRequests(to: string, n: number): void } {
  const counter = (name: string, help: string, labelNames: string[]) =>
    metric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
  const requests = counter('coredns_forward_requests_total', 'Counter of requests made per upstream.', ['to']);
  const responses = counter('coredns_forward_responses_total', 'Counter of responses received per upstream.', ['to', 'rcode']);
  const hcFailures = counter('coredns_forward_healthcheck_failures_total', 'Counter of the number of failed healthchecks.', ['to']);
  const proxyHc = counter('coredns_proxy_healthcheck_failures_total', 'Count of failed health checks per upstream.', ['proxy_name', 'to', 'rcode']);
  const broken = counter('coredns_forward_healthcheck_broken_total', 'Counter of the number of complete failures of the healthchecks.', []);
  const rejects = counter('coredns_forward_max_concurrent_rejects_total', 'Counter of the number of queries rejected because the concurrent queries were at maximum.', []);
  const proxyDuration = metric(registry, 'coredns_proxy_request_duration_seconds', () => new Histogram({
    name: 'coredns_proxy_request_duration_seconds', help: 'Histogram of the time each request took.',
    labelNames: ['proxy_name', 'to', 'rcode'], buckets: TIME_BUCKETS, registers: [registry],
  }));
  return {
    request: (to) => requests.labels({ to }).inc(),
    addRequests: (to, n) => requests.labels({ to }).inc(n),
    response: (to, rcode, ms) => {
      responses.labels({ to, rcode: rcodeName(rcode) }).inc();
      proxyDuration.labels({ proxy_name: 'forward', to, rcode: rcodeName(rcode) }).observe(ms / 1000);
    },
    healthcheckFailure: (to) => {
      hcFailures.labels({ to }).inc();
      proxyHc.labels({ proxy_name: 'forward', to, rcode: '' }).inc();
    },
    healthcheckBroken: () => broken.inc(),
    maxConcurrentReject: () => rejects.inc(),
  };
}
