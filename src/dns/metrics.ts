import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CacheEvents } from './cache-forwarder.ts';
import type { CacheKind } from './cache.ts';
import type { Observation } from './handler.ts';
import type { ForwardEvents } from './forward/upstream-forwarder.ts';
import { rcodeName, typeName } from './wire/constants.ts';

// CoreDNS 1.11's metric names and labels (plugin/metrics, plugin/cache,
// plugin/forward), so dashboards and alerts written for CoreDNS work.

/** CoreDNS plugin.TimeBuckets: 0.25 ms doubling 16 times. */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

/** CoreDNS counts these types by name and the rest as "other" (plugin/metrics/vars monitored types). */
const MONITORED = new Set(['A', 'AAAA', 'MX', 'SOA', 'CNAME', 'PTR', 'TXT', 'NS', 'SRV', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'HTTPS', 'IXFR', 'AXFR', 'ANY']);

function typeLabel(qtype: number): string {
  const n = typeName(qtype);
  return MONITORED.has(n) ? n : 'other';
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface DnsMetricLabels {
  /** "dns://:53", CoreDNS's server label. */
  server: string;
  /** The server block's zone ("." for kubeadm's Corefile): CoreDNS labels requests by it, not by the cluster zone. */
  zone: string;
  /** "1" IPv4, "2" IPv6, as CoreDNS's family label. */
  family: string;
}

/**
 * The server's `observe` hook: coredns_dns_requests_total,
 * coredns_dns_responses_total and coredns_dns_request_duration_seconds.
 * Label children are looked up once per combination and kept, so a query
 * costs a Map lookup and three increments.
 */
export function createDnsMetrics(registry: Registry, labels: DnsMetricLabels = { server: 'dns://:53', zone: '.', family: '1' }): (o: Observation) => void {
  const requests = metric(registry, 'coredns_dns_requests_total', () => new Counter({
    name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.',
    labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers: [registry],
  }));
  const responses = metric(registry, 'coredns_dns_responses_total', () => new Counter({
    name: 'coredns_dns_responses_total', help: 'Counter of response status codes.',
    labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers: [registry],
  }));
  const duration = metric(registry, 'coredns_dns_request_duration_seconds', () => new Histogram({
    name: 'coredns_dns_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took per zone.',
    labelNames: ['server', 'zone', 'view', 'type'], buckets: TIME_BUCKETS, registers: [registry],
  }));
  const children = new Map<string, { req: { inc(): void }; res: { inc(): void }; dur: { observe(v: number): void } }>();
  const { server, zone, family } = labels;
  return (o) => {
    const key = `${o.proto}|${o.qtype}|${o.rcode}|${o.fromCache ? 'c' : o.forwarded ? 'f' : o.zone === null ? 'n' : 'k'}`;
    let c = children.get(key);
    if (!c) {
      const type = typeLabel(o.qtype);
      // The plugin that wrote the response: kubernetes for the zones, forward beyond them, cache for a hit.
      const plugin = o.fromCache ? 'cache' : o.forwarded ? 'forward' : o.zone === null || o.zone === '.' ? '' : 'kubernetes';
      c = {
        req: requests.labels({ server, zone, view: '', proto: o.proto, family, type }),
        res: responses.labels({ server, zone, view: '', rcode: rcodeName(o.rcode), plugin }),
        dur: duration.labels({ server, zone, view: '', type }),
      };
      children.set(key, c);
    }
    c.req.inc();
    c.res.inc();
    c.dur.observe(o.durationMs / 1000);
  };
}

/** coredns_cache_* for the forwarder's cache; `sizes` is read at scrape time. */
export function createCacheMetrics(registry: Registry, server: string, zones: string, sizes: (kind: CacheKind) => number): CacheEvents {
  const hits = metric(registry, 'coredns_cache_hits_total', () => new Counter({
    name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type', 'zones', 'view'], registers: [registry],
  }));
  const misses = metric(registry, 'coredns_cache_misses_total', () => new Counter({
    name: 'coredns_cache_misses_total', help: 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
    labelNames: ['server', 'zones', 'view'], registers: [registry],
  }));
  const requests = metric(registry, 'coredns_cache_requests_total', () => new Counter({
    name: 'coredns_cache_requests_total', help: 'The count of cache requests.', labelNames: ['server', 'zones', 'view'], registers: [registry],
  }));
  const prefetches = metric(registry, 'coredns_cache_prefetch_total', () => new Counter({
    name: 'coredns_cache_prefetch_total', help: 'The number of times the cache has prefetched a cached item.', labelNames: ['server', 'zones', 'view'], registers: [registry],
  }));
  registry.removeSingleMetric('coredns_cache_entries');
  new Gauge({
    name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'], registers: [registry],
    collect() {
      for (const type of ['success', 'denial'] as const) this.set({ server, type, zones, view: '' }, sizes(type));
    },
  });
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
  };
}

/**
 * The forward plugin's metrics: the names the brief of CoreDNS ≤ 1.10
 * dashboards use (coredns_forward_requests_total{to}, …_responses_total{to,rcode},
 * …_healthcheck_failures_total{to}) and 1.11's coredns_proxy_* successors.
 */
export function createForwardMetrics(registry: Registry): ForwardEvents {
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
