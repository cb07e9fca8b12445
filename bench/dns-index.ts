// The zone index at scale: the first build over 10,000 services (half
// headless, 5 endpoints each) and the cost of one incremental change (an
// EndpointSlice update recomputes only its service), plus memory.
// Run: npx node --expose-gc bench/dns-index.ts

import { ObjectStore } from '../src/k8s/store.ts';
import { ZoneIndex } from '../src/dns/zone-index.ts';
import type { Namespace } from '../src/k8s/objects.ts';
import { endpoint, endpointSlice, service } from '../test/helpers/objects.ts';

const SERVICES = 10_000;
const store = new ObjectStore();
for (let n = 0; n < 100; n++) {
  const ns: Namespace = { kind: 'Namespace', meta: { namespace: '', name: `ns-${n}`, uid: `u${n}`, resourceVersion: '1' } };
  store.upsert(ns);
}
for (let i = 0; i < SERVICES; i++) {
  const ns = `ns-${i % 100}`;
  const headless = i % 2 === 0;
  store.upsert(service(ns, `svc-${i}`, { clusterIPs: headless ? [] : [`10.96.${(i >> 8) & 255}.${i & 255}`], headless }));
  store.upsert(endpointSlice(ns, `svc-${i}`, `svc-${i}-a`, Array.from({ length: 5 }, (_, k) => endpoint(`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255)}`.replace(/\.(\d+)$/, (_, d) => `.${(Number(d) + k) & 255}`)))));
}
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const index = new ZoneIndex(store, { endpointPodNames: false, podsVerified: false });
let t0 = performance.now();
index.start();
const buildMs = performance.now() - t0;
gc?.();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
const names = index.size;

const UPDATES = 20_000;
t0 = performance.now();
for (let u = 0; u < UPDATES; u++) {
  const i = u % SERVICES;
  const ns = `ns-${i % 100}`;
  store.upsert(endpointSlice(ns, `svc-${i}`, `svc-${i}-a`, [endpoint(`10.200.${(u >> 8) & 255}.${u & 255}`)]));
}
const perUpdateUs = ((performance.now() - t0) / UPDATES) * 1000;

console.log('| services | names | first build ms | heap of the index MB | one EndpointSlice update µs |');
console.log('|---:|---:|---:|---:|---:|');
console.log(`| ${SERVICES.toLocaleString('en-US')} | ${names.toLocaleString('en-US')} | ${buildMs.toFixed(0)} | ${gc ? heapMb.toFixed(1) : 'n/a (run with --expose-gc)'} | ${perUpdateUs.toFixed(1)} |`);
