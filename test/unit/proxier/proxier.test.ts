import t from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { ConntrackCleaner } from '../../../src/proxier/conntrack-cleaner.ts';
import { FakeConntrackTable } from '../../../src/proxier/conntrack-table.ts';
import { FakeHealthCheckServers } from '../../../src/proxier/healthcheck-servers.ts';
import { ProxierMetrics } from '../../../src/proxier/metrics.ts';
import { Proxier } from '../../../src/proxier/proxier.ts';
import type { Family } from '../../../src/proxier/plan.ts';
import { endpoint, endpointSlice, node, service, servicePort } from '../../helpers/objects.ts';
import { FakeBackend } from './fake-backend.ts';
import { FakeClock } from './fake-clock.ts';

const MIN = 1000;
const PERIOD = 30_000;

function setup(opts: { families?: Family[]; fullSyncPeriodMs?: number } = {}) {
  const store = new ObjectStore();
  const clock = new FakeClock();
  const registry = new Registry();
  const backends = new Map<Family, FakeBackend>((opts.families ?? [4]).map((f) => [f, new FakeBackend()]));
  const conntrack = new FakeConntrackTable();
  const healthChecks = new FakeHealthCheckServers();
  const proxier = new Proxier({
    store,
    nodeName: 'node-a',
    backends,
    log: silentLogger,
    metrics: new ProxierMetrics(registry),
    masqueradeAll: false,
    clusterCIDRs: ['10.244.0.0/16'],
    minSyncPeriodMs: MIN,
    syncPeriodMs: PERIOD,
    fullSyncPeriodMs: opts.fullSyncPeriodMs,
    nodePortAddresses: () => ['192.168.1.10'],
    conntrack: new ConntrackCleaner(conntrack, silentLogger),
    healthChecks,
    clock,
  });
  const syncAll = () => {
    store.markSynced('Service');
    store.markSynced('EndpointSlice');
    store.markSynced('Node');
  };
  return { store, clock, registry, backends, backend: backends.get(opts.families?.[0] ?? 4)!, conntrack, healthChecks, proxier, syncAll };
}

t.test('nothing is applied before Services, EndpointSlices and Nodes have synced', async (t) => {
  const { store, clock, backend, proxier } = setup();
  await proxier.start();
  store.upsert(service('ns', 'a'));
  store.markSynced('Service');
  store.markSynced('EndpointSlice');
  await clock.advance(5 * PERIOD);
  t.equal(backend.syncs.length, 0, 'no sync while Nodes are not synced');
  store.markSynced('Node');
  await clock.advance(0);
  t.equal(backend.syncs.length, 1, 'first sync once everything synced');
  t.equal(backend.last?.full, true, 'the first sync is full');
  t.same(backend.last?.keys, ['ns/a:http/tcp']);
  t.same(backend.last?.nodePortAddresses, ['192.168.1.10']);
  await proxier.stop();
});

t.test('full first, then partial syncs with only the changed keys; stale keys removed', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup();
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'] }));
  store.upsert(service('ns', 'b', { clusterIPs: ['10.96.0.2'] }));
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1')]));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.equal(backend.syncs.length, 1);
  t.same(backend.last?.keys, ['ns/a:http/tcp', 'ns/b:http/tcp']);

  await clock.advance(5000);
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1'), endpoint('10.1.0.2')]));
  await clock.advance(0);
  t.equal(backend.syncs.length, 2, 'a change syncs at once when minSyncPeriod has passed');
  t.equal(backend.last?.full, false, 'partial');
  t.same(backend.last?.changed, ['ns/a:http/tcp'], 'only the changed service');
  t.same(
    backend.last?.plans.get('ns/a:http/tcp')?.clusterEndpoints.map((e) => e.ip),
    ['10.1.0.1', '10.1.0.2'],
  );
  t.equal(backend.last?.plans.get('ns/b:http/tcp')?.clusterIP, '10.96.0.2', 'unchanged plans are still handed over');

  store.remove('Service', 'ns/b');
  await clock.advance(MIN);
  t.equal(backend.last?.full, false);
  t.same(backend.last?.changed, ['ns/b:http/tcp'], 'the removed key is reported changed');
  t.same(backend.last?.keys, ['ns/a:http/tcp'], 'and is gone from the plans');

  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'], ports: [servicePort({ name: 'web' })] }));
  await clock.advance(MIN);
  t.same(backend.last?.changed, ['ns/a:http/tcp', 'ns/a:web/tcp'], 'a renamed port: old key and new key');
  t.same(backend.last?.keys, ['ns/a:web/tcp']);
  await proxier.stop();
});

t.test('changes within minSyncPeriod are merged into one sync', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup();
  syncAll();
  await proxier.start();
  await clock.advance(0);
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'] }));
  store.upsert(service('ns', 'b', { clusterIPs: ['10.96.0.2'] }));
  store.upsert(service('ns', 'c', { clusterIPs: ['10.96.0.3'] }));
  await clock.advance(MIN - 1);
  t.equal(backend.syncs.length, 1, 'held back by minSyncPeriod');
  await clock.advance(1);
  t.equal(backend.syncs.length, 2);
  t.same(backend.last?.changed, ['ns/a:http/tcp', 'ns/b:http/tcp', 'ns/c:http/tcp']);
  await proxier.stop();
});

t.test('a failed sync retries, and the retry is full', async (t) => {
  const { store, clock, backend, proxier, syncAll, registry } = setup();
  syncAll();
  await proxier.start();
  await clock.advance(0);
  await clock.advance(5000);
  backend.fail = 1;
  store.upsert(service('ns', 'a'));
  await clock.advance(0);
  t.equal(backend.syncs.length, 1, 'the failed sync recorded nothing');
  const failures = await registry.getSingleMetric('kubeproxy_sync_proxy_rules_iptables_restore_failures_total')!.get();
  t.equal(failures.values[0]?.value, 1, 'restore failure counted');
  await clock.advance(1000);
  t.equal(backend.syncs.length, 2, 'retried without any new change');
  t.equal(backend.last?.full, true, 'the retry is a full sync');
  t.same(backend.last?.keys, ['ns/a:http/tcp']);
  store.upsert(service('ns', 'b', { clusterIPs: ['10.96.0.2'] }));
  await clock.advance(MIN);
  t.equal(backend.last?.full, false, 'back to partial syncs after success');
  await proxier.stop();
});

t.test('a failure the backend does not report as a restore failure is retried but not counted as one', async (t) => {
  const { store, clock, backend, proxier, syncAll, registry } = setup();
  syncAll();
  await proxier.start();
  await clock.advance(0);
  backend.fail = 1;
  backend.failure = () => new Error('netlink: EBUSY');
  store.upsert(service('ns', 'a'));
  await clock.advance(MIN);
  const failures = await registry.getSingleMetric('kubeproxy_sync_proxy_rules_iptables_restore_failures_total')!.get();
  t.same(failures.values, [], 'no restore failure counted');
  await clock.advance(1000);
  t.equal(backend.last?.full, true, 'retried with a full sync all the same');
  await proxier.stop();
});

t.test('a full sync every fullSyncPeriod (syncPeriod when unset), even without changes', async (t) => {
  for (const [name, fullSyncPeriodMs, fullAfter] of [
    ['unset: every syncPeriod', undefined, PERIOD],
    ['kube-proxy: every hour', 3_600_000, 3_600_000],
  ] as const) {
    const { clock, backend, proxier, syncAll } = setup({ fullSyncPeriodMs });
    syncAll();
    await proxier.start();
    await clock.advance(0);
    await clock.advance(fullAfter - PERIOD);
    t.equal(backend.syncs.length, 1, `${name}: no sync while nothing changed and the period has not passed`);
    await clock.advance(PERIOD);
    t.equal(backend.syncs.length, 2, `${name}: one more sync`);
    t.equal(backend.last?.full, true, `${name}: and it is full`);
    await proxier.stop();
  }
});

t.test('the canary poll: every syncPeriod, apart from syncs; a missing canary queues a full sync at once', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup({ fullSyncPeriodMs: 3_600_000 });
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.equal(backend.intactChecks, 0, 'no check at the first sync');
  store.upsert(service('ns', 'a'));
  await clock.advance(MIN);
  t.equal(backend.last?.full, false, 'a change is a partial sync');
  t.equal(backend.intactChecks, 0, 'and it runs no check');
  await clock.advance(PERIOD - MIN);
  t.equal(backend.intactChecks, 1, 'checked once a syncPeriod');
  t.equal(backend.syncs.length, 2, 'an intact state costs no sync');

  backend.intactAnswer = 'error';
  await clock.advance(PERIOD);
  t.equal(backend.intactChecks, 2, 'checked again');
  t.equal(backend.syncs.length, 2, 'a check that fails (busy lock) is not taken for a flush');

  backend.intactAnswer = false;
  await clock.advance(PERIOD);
  t.equal(backend.syncs.length, 3, 'canary gone: a sync right away');
  t.equal(backend.last?.full, true, 'and it is full');
  t.same(backend.last?.keys, ['ns/a:http/tcp'], 'with every plan');
  backend.intactAnswer = true;
  store.upsert(service('ns', 'b', { clusterIPs: ['10.96.0.2'] }));
  await clock.advance(MIN);
  t.equal(backend.last?.full, false, 'partial syncs again afterwards');
  await proxier.stop();
  const checks = backend.intactChecks;
  await clock.advance(3 * PERIOD);
  t.equal(backend.intactChecks, checks, 'no checks after stop');
});

t.test('healthz: unhealthy when changes wait longer than 2×syncPeriod', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup();
  await proxier.start();
  t.equal(proxier.healthy(), true, 'healthy at start');
  await clock.advance(2 * PERIOD);
  t.equal(proxier.healthy(), false, 'never synced for 2×syncPeriod: unhealthy');
  syncAll();
  await clock.advance(0);
  t.equal(proxier.healthy(), true, 'healthy after the first sync');
  backend.fail = 1000;
  store.upsert(service('ns', 'a'));
  await clock.advance(PERIOD);
  t.equal(proxier.healthy(), true, 'failing, but not for long yet');
  await clock.advance(PERIOD + 1);
  t.equal(proxier.healthy(), false, 'failing for more than 2×syncPeriod');
  backend.fail = 0;
  await clock.advance(PERIOD);
  t.equal(proxier.healthy(), true, 'recovered');
  await proxier.stop();
});

t.test('dual-stack: one SyncRequest per family with its own plans', async (t) => {
  const { store, clock, backends, proxier, syncAll } = setup({ families: [4, 6] });
  store.upsert(service('ns', 'ds', { clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'] }));
  store.upsert(service('ns', 'v4', { clusterIPs: ['10.96.0.6'] }));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.same(backends.get(4)?.last?.keys, ['ns/ds:http/tcp', 'ns/v4:http/tcp']);
  t.same(backends.get(6)?.last?.keys, ['ns/ds:http/tcp']);
  t.equal(backends.get(6)?.last?.plans.get('ns/ds:http/tcp')?.clusterIP, 'fd00::5');
  await proxier.stop();
});

t.test('a zone change of this node recomputes topology for every service', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup();
  store.upsert(node('node-a', { zone: 'a' }));
  store.upsert(service('ns', 'topo', { topologyMode: 'Auto' }));
  store.upsert(
    endpointSlice('ns', 'topo', 'topo-1', [
      endpoint('10.1.0.1', { zone: 'a', zoneHints: ['a'] }),
      endpoint('10.1.0.2', { zone: 'b', zoneHints: ['b'] }),
    ]),
  );
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.same(backend.last?.plans.get('ns/topo:http/tcp')?.clusterEndpoints.map((e) => e.ip), ['10.1.0.1']);
  await clock.advance(5000);
  store.upsert(node('node-a', { zone: 'b' }));
  await clock.advance(0);
  t.same(backend.last?.plans.get('ns/topo:http/tcp')?.clusterEndpoints.map((e) => e.ip), ['10.1.0.2']);
  await proxier.stop();
});

t.test("a new IP of this node rebuilds the plans whose source ranges hold it", async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup();
  store.upsert(node('node-a', { internalIPs: ['192.168.1.10'] }));
  store.upsert(
    service('ns', 'lb', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30080 })], loadBalancerIngressIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['192.168.2.0/24'] }),
  );
  store.upsert(endpointSlice('ns', 'lb', 'lb-1', [endpoint('10.1.0.1')]));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.equal(backend.last?.plans.get('ns/lb:http/tcp')?.loadBalancerSourceRangesIncludeNode, false, 'node outside the ranges');
  await clock.advance(5000);
  store.upsert(node('node-a', { internalIPs: ['192.168.2.10'] }));
  await clock.advance(0);
  t.equal(backend.last?.plans.get('ns/lb:http/tcp')?.loadBalancerSourceRangesIncludeNode, true, 'node moved into them');
  t.same(backend.last?.changed, ['ns/lb:http/tcp'], 'the plan is synced as changed');
  await proxier.stop();
});

t.test('UDP conntrack: nothing on the first sync; none→some and removed endpoints after', async (t) => {
  const { store, clock, conntrack, proxier, syncAll } = setup();
  const dns = service('kube-system', 'dns', { clusterIPs: ['10.96.0.10'], ports: [servicePort({ name: 'dns', protocol: 'UDP', port: 53 })] });
  const slicePorts = [{ name: 'dns', protocol: 'UDP' as const, port: 53 }];
  store.upsert(dns);
  store.upsert(endpointSlice('kube-system', 'dns', 'dns-1', [endpoint('10.1.0.1')], { ports: slicePorts }));
  store.upsert(service('ns', 'empty', { clusterIPs: ['10.96.0.20'], ports: [servicePort({ name: 'u', protocol: 'UDP', port: 99 })] }));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.same(conntrack.calls, [], 'no flush on (re)start');

  await clock.advance(5000);
  store.upsert(endpointSlice('kube-system', 'dns', 'dns-1', [endpoint('10.1.0.2')], { ports: slicePorts }));
  store.upsert(endpointSlice('ns', 'empty', 'empty-1', [endpoint('10.1.0.9')], { ports: [{ name: 'u', protocol: 'UDP', port: 99 }] }));
  await clock.advance(0);
  t.same(conntrack.calls, [
    {
      family: 4,
      filters: [
        { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53, replySrc: '10.1.0.1' },
        { protocol: 'udp', origDst: '10.96.0.20', origDstPort: 99 },
      ],
    },
  ]);
  await proxier.stop();
});

t.test('health check servers follow Local services with their ready local endpoints', async (t) => {
  const { store, clock, healthChecks, proxier, syncAll } = setup();
  store.upsert(
    service('ns', 'lb', {
      type: 'LoadBalancer',
      ports: [servicePort({ nodePort: 30080 })],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32100,
      loadBalancerIngressIPs: ['203.0.113.1'],
    }),
  );
  store.upsert(endpointSlice('ns', 'lb', 'lb-1', [endpoint('10.1.0.1'), endpoint('10.1.0.2', { nodeName: 'node-b' })]));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  t.same([...healthChecks.current], [['ns/lb', { port: 32100, localEndpoints: 1 }]]);
  await clock.advance(5000);
  store.upsert(endpointSlice('ns', 'lb', 'lb-1', [endpoint('10.1.0.1', { ready: false, serving: true, terminating: true })]));
  await clock.advance(0);
  t.same([...healthChecks.current], [['ns/lb', { port: 32100, localEndpoints: 0 }]], 'only terminating locally: 0, so the LB drains the node');
  store.remove('Service', 'ns/lb');
  await clock.advance(MIN);
  t.same([...healthChecks.current], [], 'server closed with the service');
  await proxier.stop();
});

t.test('kube-proxy metrics are registered and updated', async (t) => {
  const { store, clock, proxier, syncAll, registry } = setup();
  store.upsert(service('ns', 'a'));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  const now = Date.now();
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1')], { triggerTimeMs: now - 1500 }));
  store.upsert(service('ns', 'b', { clusterIPs: ['10.96.0.2'] }));
  await clock.advance(MIN);
  const text = await registry.metrics();
  for (const name of [
    'kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 2',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
    'kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
    'kubeproxy_network_programming_duration_seconds_count{ip_family="IPv4"} 1',
    'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}',
    'kubeproxy_sync_proxy_rules_endpoint_changes_pending 0',
    'kubeproxy_sync_proxy_rules_service_changes_pending 0',
    'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
    'kubeproxy_sync_proxy_rules_service_changes_total 1',
    'kubeproxy_sync_proxy_rules_endpoint_changes_total 1',
    'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
    'kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 4',
    'kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="filter"} 2',
  ]) {
    t.ok(text.includes(name), `metrics contain ${name}`);
  }
  const np = await registry.getSingleMetric('kubeproxy_network_programming_duration_seconds')!.get();
  const sum = np.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
  t.ok(sum >= 1.5 && sum < 60, `network programming latency measured from the trigger time (${sum}s)`);
  await proxier.stop();
});

t.test('a slice change that leaves every plan equal costs the backend nothing', async (t) => {
  const { store, clock, backend, proxier, syncAll } = setup({ families: [4, 6] });
  store.upsert(service('ns', 'ds', { clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'] }));
  store.upsert(endpointSlice('ns', 'ds', 'ds-4', [endpoint('10.1.0.1')]));
  syncAll();
  await proxier.start();
  await clock.advance(0);
  const before = backend.syncs.length;
  await clock.advance(5000);
  store.upsert(endpointSlice('ns', 'ds', 'ds-4', [endpoint('10.1.0.1', { hostname: 'renamed' })]));
  await clock.advance(MIN);
  t.equal(backend.syncs.length, before, 'hostname only: no sync');
  store.upsert(endpointSlice('ns', 'ds', 'ds-6', [endpoint('fd00:1::1')], { addressType: 'IPv6' }));
  await clock.advance(MIN);
  t.equal(backend.syncs.length, before, 'an IPv6 slice does not touch the IPv4 backend');
  store.upsert(endpointSlice('ns', 'ds', 'ds-4', [endpoint('10.1.0.2')]));
  await clock.advance(MIN);
  t.equal(backend.syncs.length, before + 1, 'a real change syncs');
  t.same(backend.last?.changed, ['ns/ds:http/tcp']);
  await proxier.stop();
});
