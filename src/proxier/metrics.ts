// kube-proxy's metrics (pkg/proxy/metrics/metrics.go), same names, buckets
// and meanings, so existing dashboards and alerts keep working. Per-family
// series carry `ip_family` ("IPv4"/"IPv6") as recent kube-proxy versions do.

import { Counter, Gauge, Histogram, exponentialBuckets, linearBuckets } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Family } from './plan.ts';

export const familyLabel = (f: Family): string => (f === 4 ? 'IPv4' : 'IPv6');

export class ProxierMetrics {
  readonly syncDuration: Histogram<'ip_family'>;
  readonly syncFullDuration: Histogram<'ip_family'>;
  readonly syncPartialDuration: Histogram<'ip_family'>;
  readonly networkProgramming: Histogram<'ip_family'>;
  readonly lastTimestamp: Gauge<'ip_family'>;
  readonly lastQueuedTimestamp: Gauge;
  readonly endpointChangesPending: Gauge;
  readonly serviceChangesPending: Gauge;
  readonly endpointChangesTotal: Counter;
  readonly serviceChangesTotal: Counter;
  readonly restoreFailures: Counter<'ip_family'>;
  readonly rulesTotal: Gauge<'ip_family' | 'table'>;
  readonly excludedServicePorts: Gauge<'ip_family'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const syncBuckets = exponentialBuckets(0.001, 2, 15);
    this.syncDuration = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.syncFullDuration = new Histogram({
      name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for full resyncs',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.syncPartialDuration = new Histogram({
      name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for partial resyncs',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.networkProgramming = new Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      labelNames: ['ip_family'],
      // kube-proxy's: 0, 0.25s, 0.5s, 1..59s, 60..115s by 5, 2..5 min by 30s.
      buckets: [0, ...linearBuckets(0.25, 0.25, 2), ...linearBuckets(1, 1, 59), ...linearBuckets(60, 5, 12), ...linearBuckets(120, 30, 7)],
      registers,
    });
    this.lastTimestamp = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      labelNames: ['ip_family'],
      registers,
    });
    this.lastQueuedTimestamp = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      help: 'The last time a sync of proxy rules was queued',
      registers,
    });
    this.endpointChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
      help: 'Pending proxy rules Endpoint changes',
      registers,
    });
    this.serviceChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_service_changes_pending',
      help: 'Pending proxy rules Service changes',
      registers,
    });
    this.endpointChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
      registers,
    });
    this.serviceChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
      registers,
    });
    // netlet's own: service ports left out of the rules because the backend
    // could not load them (family-sync.ts); each is named in the log.
    this.excludedServicePorts = new Gauge({
      name: 'netlet_proxy_excluded_service_ports',
      help: 'Service ports left out of the proxy rules because the backend could not load their rules',
      labelNames: ['ip_family'],
      registers,
    });
    this.restoreFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      help: 'Cumulative proxy iptables restore failures',
      labelNames: ['ip_family'],
      registers,
    });
    this.rulesTotal = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_total',
      help: 'Total number of iptables rules owned by kube-proxy',
      labelNames: ['ip_family', 'table'],
      registers,
    });
  }
}
