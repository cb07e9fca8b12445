// Cost of the backend-neutral proxier per sync, without any kernel work: a
// full rebuild of every plan (start, and every syncPeriod) and a partial sync
// after one endpoint changes, at the scale envelope (10,000 services).
// Run: npx node bench/proxier.ts

import { Registry } from 'prom-client';
import { silentLogger } from '../src/base/log.ts';
import type { EndpointSlice, Service } from '../src/k8s/objects.ts';
import { ObjectStore } from '../src/k8s/store.ts';
import type { ProxyBackend, SyncRequest } from '../src/proxier/backend.ts';
import type { Clock } from '../src/base/bounded-frequency-runner.ts';
import { ProxierMetrics } from '../src/proxier/metrics.ts';
import { Proxier } from '../src/proxier/proxier.ts';

// Timers never fire (syncs are called directly); `now` is moved by hand to make a sync periodic (full).
let now = 0;
const stoppedClock: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };

function svc(i: number): Service {
  return {
    kind: 'Service', meta: { namespace: `ns${i % 100}`, name: `svc${i}`, uid: `u${i}`, resourceVersion: '1' }, type: 'ClusterIP',
    clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`], headless: false, ipFamilies: ['IPv4'],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 0 }], externalIPs: [], loadBalancerIngressIPs: [],
    loadBalancerSourceRanges: [], externalName: '', sessionAffinity: 'None', sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, publishNotReadyAddresses: false,
    trafficDistribution: '', topologyMode: '', serviceProxyName: '',
  };
}

function slice(i: number, endpoints: number, rv: string, shift = 0): EndpointSlice {
  return {
    kind: 'EndpointSlice', meta: { namespace: `ns${i % 100}`, name: `svc${i}-x`, uid: `s${i}`, resourceVersion: rv }, serviceName: `svc${i}`,
    addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], triggerTimeMs: 0,
    endpoints: Array.from({ length: endpoints }, (_, e) => ({
      addresses: [`10.${(e + shift) & 255}.${(i >> 8) & 255}.${i & 255}`], ready: true, serving: true, terminating: false,
      hostname: '', nodeName: `node-${e % 50}`, zone: '', zoneHints: [],
    })),
  };
}

class NullBackend implements ProxyBackend {
  readonly name = 'null';
  async sync(req: SyncRequest) {
    return { ruleCount: req.plans.size, applyMs: 0 };
  }
  async cleanup() {}
}

async function scenario(services: number, endpoints: number) {
  const store = new ObjectStore();
  for (let i = 0; i < services; i++) {
    store.upsert(svc(i));
    store.upsert(slice(i, endpoints, '1'));
  }
  for (const k of ['Service', 'EndpointSlice', 'Node'] as const) store.markSynced(k);
  const proxier = new Proxier({
    store, nodeName: 'node-0', backends: new Map([[4, new NullBackend()]]), log: silentLogger, metrics: new ProxierMetrics(new Registry()),
    masqueradeAll: false, clusterCIDRs: ['10.0.0.0/8'], minSyncPeriodMs: 1000, syncPeriodMs: 30_000, clock: stoppedClock,
  });
  await proxier.start();
  let t0 = performance.now();
  await proxier.syncProxyRules();
  const first = performance.now() - t0;
  now += 30_000; // the next sync is the periodic full one
  t0 = performance.now();
  await proxier.syncProxyRules();
  const full = performance.now() - t0;
  const partial: number[] = [];
  for (let r = 0; r < 20; r++) {
    const i = (r * 997) % services;
    store.upsert(slice(i, endpoints, String(r + 2), r + 1));
    t0 = performance.now();
    await proxier.syncProxyRules();
    partial.push(performance.now() - t0);
  }
  await proxier.stop();
  partial.sort((a, b) => a - b);
  return { first, full, partial: partial[partial.length >> 1] };
}

console.log('| services | endpoints each | first sync (ms) | periodic full sync (ms) | partial sync, 1 slice changed, median of 20 (ms) |');
console.log('|---|---|---|---|---|');
for (const [services, endpoints] of [[1000, 3], [10_000, 3], [1000, 250]] as const) {
  const r = await scenario(services, endpoints);
  console.log(`| ${services.toLocaleString('en')} | ${endpoints} | ${r.first.toFixed(1)} | ${r.full.toFixed(1)} | ${r.partial.toFixed(2)} |`);
}

// Change tracking runs inside the store's event loop: it must keep up with
// the watch (>= 5,000 EndpointSlice events/s). "Unchanged" (a new
// resourceVersion, same endpoints) is the worst case: every field is compared.
console.log('');
console.log('| endpoints per slice | tracked updates/s, endpoints changed | tracked updates/s, content unchanged |');
console.log('|---|---|---|');
const { ChangeTracker } = await import('../src/proxier/change-tracker.ts');
for (const endpoints of [3, 100, 250]) {
  const rate = (changing: boolean) => {
    const store = new ObjectStore();
    const tracker = new ChangeTracker();
    tracker.attach(store);
    const a = Array.from({ length: 1000 }, (_, i) => slice(i, endpoints, '1'));
    const b = changing ? Array.from({ length: 1000 }, (_, i) => slice(i, endpoints, '1', 1)) : a;
    for (const s of a) store.upsert(s);
    tracker.take();
    const rounds = 10;
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 ? a : b) store.upsert({ ...s, meta: { ...s.meta, resourceVersion: String(r + 3) } });
    }
    return Math.round((rounds * 1000) / ((performance.now() - t0) / 1000)).toLocaleString('en');
  };
  console.log(`| ${endpoints} | ${rate(true)} | ${rate(false)} |`);
}
