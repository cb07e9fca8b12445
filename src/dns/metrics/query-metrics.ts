import type { Registry } from 'prom-client';
import type { Observation } from '../answer/handler.ts';
import { rcodeName, typeName } from '../wire/constants.ts';

// coredns_dns_requests_total, coredns_dns_responses_total and
// coredns_dns_request_duration_seconds without prom-client on the hot path:
// prom-client hashes the label set on every inc/observe (measured ~5 µs for
// the three per query, a third of the cost of answering one), so queries
// only bump plain numbers in a slot found by an integer key, and the three
// metrics are built from the slots when scraped. The objects below are
// what prom-client's Registry reads from a metric (name, help, type, get()).

/** CoreDNS plugin.TimeBuckets: 0.25 ms doubling 16 times (plugin/pkg/... TimeBuckets). */
export const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

/** CoreDNS counts these types by name and the rest as "other" (plugin/metrics/vars). */
const MONITORED = new Set(['A', 'AAAA', 'MX', 'SOA', 'CNAME', 'PTR', 'TXT', 'NS', 'SRV', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'HTTPS', 'IXFR', 'AXFR', 'ANY']);

export function typeLabel(qtype: number): string {
  const n = typeName(qtype);
  return MONITORED.has(n) ? n : 'other';
}

export interface DnsMetricLabels {
  /** "dns://:53", CoreDNS's server label. */
  server: string;
  /** The server block's zone ("." for kubeadm's Corefile): CoreDNS labels requests by it, not by the cluster zone. */
  zone: string;
  /** "1" IPv4, "2" IPv6, as CoreDNS's family label. */
  family: string;
}

const PLUGINS = ['', 'kubernetes', 'forward', 'cache'] as const;

interface Slot {
  proto: string;
  type: string;
  rcode: string;
  plugin: string;
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  buckets: Float64Array;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** One server block zone's observations, by question type, rcode, plugin and protocol. */
class ZoneSlots {
  readonly slots = new Map<number, Slot>();
  readonly server: string;
  readonly zone: string;

  constructor(server: string, zone: string) {
    this.server = server;
    this.zone = zone;
  }

  observe = (o: Observation): void => {
    const plugin = o.fromCache ? 3 : o.forwarded ? 2 : o.zone === null || o.zone === '.' ? 0 : 1;
    const key = (((o.qtype & 0xffff) * 32 + (o.rcode & 31)) * 4 + plugin) * 2 + (o.proto === 'tcp' ? 1 : 0);
    let s = this.slots.get(key);
    if (!s) {
      s = { proto: o.proto, type: typeLabel(o.qtype), rcode: rcodeName(o.rcode), plugin: PLUGINS[plugin], count: 0, sum: 0, buckets: new Float64Array(TIME_BUCKETS.length + 1) };
      this.slots.set(key, s);
    }
    const seconds = o.durationMs / 1000;
    s.count++;
    s.sum += seconds;
    let b = 0;
    while (b < TIME_BUCKETS.length && seconds > TIME_BUCKETS[b]) b++;
    s.buckets[b]++;
  };
}

const under = (name: string, zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);

/**
 * Accumulates observations; three prom-client-compatible metrics read it.
 * Each server block observes under its own `server` and `zone` labels
 * (forServer), as CoreDNS's per-server metrics do.
 */
export class DnsRequestStats {
  readonly #tables = new Map<string, ZoneSlots>();
  readonly #family: string;
  /** The observer for the labels the stats were made with. */
  readonly observe: (o: Observation) => void;

  constructor(labels: DnsMetricLabels) {
    this.#family = labels.family;
    this.observe = this.forServer(labels.server, [labels.zone]);
  }

  /** The observer of one server block: `server` as CoreDNS writes it, its zones (a query counts under the longest it is in). */
  forServer(server: string, zones: readonly string[]): (o: Observation) => void {
    const tables = [...zones].sort((a, b) => b.length - a.length).map((zone) => {
      const key = `${server} ${zone}`;
      let table = this.#tables.get(key);
      if (!table) this.#tables.set(key, (table = new ZoneSlots(server, zone)));
      return table;
    });
    if (tables.length === 1) return tables[0].observe;
    return (o) => {
      const name = o.name.endsWith('.') ? o.name : `${o.name}.`;
      (tables.find((t) => under(name, t.zone)) ?? tables[tables.length - 1]).observe(o);
    };
  }

  #sumBy(labelsOf: (s: Slot, t: ZoneSlots) => Record<string, string>, valueOf: (s: Slot) => number): MetricValue[] {
    const out = new Map<string, MetricValue>();
    for (const t of this.#tables.values()) {
      for (const s of t.slots.values()) {
        const labels = labelsOf(s, t);
        const k = JSON.stringify(labels);
        const v = out.get(k);
        if (v) v.value += valueOf(s);
        else out.set(k, { labels, value: valueOf(s) });
      }
    }
    return [...out.values()];
  }

  requests(): MetricValue[] {
    const family = this.#family;
    return this.#sumBy((s, t) => ({ server: t.server, zone: t.zone, view: '', proto: s.proto, family, type: s.type }), (s) => s.count);
  }

  responses(): MetricValue[] {
    return this.#sumBy((s, t) => ({ server: t.server, zone: t.zone, view: '', rcode: s.rcode, plugin: s.plugin }), (s) => s.count);
  }

  durations(name: string): MetricValue[] {
    const out: MetricValue[] = [];
    for (const t of this.#tables.values()) {
      const byType = new Map<string, { buckets: Float64Array; sum: number; count: number }>();
      for (const s of t.slots.values()) {
        let h = byType.get(s.type);
        if (!h) byType.set(s.type, (h = { buckets: new Float64Array(TIME_BUCKETS.length + 1), sum: 0, count: 0 }));
        for (let i = 0; i < s.buckets.length; i++) h.buckets[i] += s.buckets[i];
        h.sum += s.sum;
        h.count += s.count;
      }
      for (const [type, h] of byType) {
        const labels = { server: t.server, zone: t.zone, view: '', type };
        let cumulative = 0;
        TIME_BUCKETS.forEach((le, i) => {
          cumulative += h.buckets[i];
          out.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
        });
        out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: h.count });
        out.push({ metricName: `${name}_sum`, labels, value: h.sum });
        out.push({ metricName: `${name}_count`, labels, value: h.count });
      }
    }
    return out;
  }

  /** Registers the three metrics in `registry` (replacing earlier ones of the same names). */
  register(registry: Registry): void {
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) => {
      registry.removeSingleMetric(name);
      // The shape prom-client's Registry reads (Registry.getMetricsAsString / getMetricsAsJSON).
      const m = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset: () => {} };
      registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
    };
    metric('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', 'counter', () => this.requests());
    metric('coredns_dns_responses_total', 'Counter of response status codes.', 'counter', () => this.responses());
    metric('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', 'histogram', () => this.durations('coredns_dns_request_duration_seconds'));
  }
}
