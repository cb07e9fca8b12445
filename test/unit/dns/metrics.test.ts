import t from 'tap';
import { Registry } from 'prom-client';
import { createCacheMetrics, createDnsMetrics, createForwardMetrics } from '../../../src/dns/metrics/coredns-metrics.ts';
import type { Observation } from '../../../src/dns/answer/handler.ts';

const obs = (o: Partial<Observation>): Observation =>
  ({ zone: 'cluster.local.', qtype: 1, rcode: 0, durationMs: 0.4, proto: 'udp', fromCache: false, forwarded: false, ...o }) as Observation;

t.test("CoreDNS's request, response and duration metrics", async (t) => {
  const r = new Registry();
  const observe = createDnsMetrics(r);
  observe(obs({}));
  observe(obs({ fromCache: true }));
  observe(obs({ zone: '.', forwarded: true, rcode: 3, qtype: 28, proto: 'tcp' }));
  observe(obs({ qtype: 99 }));
  const text = await r.metrics();
  const rows: Array<[string, string]> = [
    ['requests by proto, family, type', 'coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="udp",family="1",type="A"} 2'],
    ['unlisted types are "other"', 'coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="udp",family="1",type="other"} 1'],
    ['tcp', 'coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="tcp",family="1",type="AAAA"} 1'],
    ['responses by rcode and plugin', 'coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="NOERROR",plugin="kubernetes"} 2'],
    ['cache plugin for a hit', 'coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="NOERROR",plugin="cache"} 1'],
    ['forward plugin, NXDOMAIN', 'coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="NXDOMAIN",plugin="forward"} 1'],
    ['duration histogram, first CoreDNS bucket 0.25 ms', 'coredns_dns_request_duration_seconds_bucket{le="0.00025",server="dns://:53",zone=".",view="",type="A"} 0'],
    ['0.5 ms bucket', 'coredns_dns_request_duration_seconds_bucket{le="0.0005",server="dns://:53",zone=".",view="",type="A"} 2'],
  ];
  for (const [name, line] of rows) t.ok(text.includes(line), `${name}: ${line}`);
  t.ok(createDnsMetrics(r), 'a second server on the same registry reuses the metrics instead of throwing');
});

t.test('cache and forward metrics', async (t) => {
  const r = new Registry();
  let entries = 0;
  const c = createCacheMetrics(r, 'dns://:53', '.', (k) => (k === 'success' ? entries : 0));
  c.hit!('success');
  c.hit!('denial');
  c.miss!();
  c.servedStale!();
  entries = 7;
  const f = createForwardMetrics(r);
  f.request!('10.0.0.1:53');
  f.response!('10.0.0.1:53', 0, 3);
  f.healthcheckFailure!('10.0.0.2:53');
  const text = await r.metrics();
  for (const line of [
    'coredns_cache_hits_total{server="dns://:53",zones=".",view="",type="success"} 1',
    'coredns_cache_hits_total{server="dns://:53",zones=".",view="",type="denial"} 1',
    'coredns_cache_misses_total{server="dns://:53",zones=".",view=""} 1',
    'coredns_cache_requests_total{server="dns://:53",zones=".",view=""} 3',
    'coredns_cache_entries{server="dns://:53",type="success",zones=".",view=""} 7',
    'coredns_cache_served_stale_total{server="dns://:53",zones=".",view=""} 1',
    'coredns_forward_requests_total{to="10.0.0.1:53"} 1',
    'coredns_forward_responses_total{to="10.0.0.1:53",rcode="NOERROR"} 1',
    'coredns_forward_healthcheck_failures_total{to="10.0.0.2:53"} 1',
    'coredns_proxy_request_duration_seconds_count{proxy_name="forward",to="10.0.0.1:53",rcode="NOERROR"} 1',
  ]) t.ok(text.includes(line), line);
});
