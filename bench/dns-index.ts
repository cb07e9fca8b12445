// The zone index at scale: the first build over 10,000 services (half
// headless, 5 endpoints each) and the cost of one incremental change (an
// EndpointSlice update recomputes only its service), plus memory: after the
// build, and after every name has been looked up once (the LRU of computed
// services full), and the cost of a lookup that has to compute its service.
// Run: npx node --expose-gc bench/dns-index.ts

import { ObjectStore } from '../src/k8s/store.ts';
import { ZoneIndex } from '../src/dns/zone/zone-index.ts';
import { serviceRecords } from '../src/dns/zone/service-records.ts';
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
// Every name the zone answers, as the resolver would ask for them.
const allNames: string[] = [];
for (const svc of store.list('Service')) {
  const key = `${svc.meta.namespace}/${svc.meta.name}`;
  for (const name of serviceRecords(svc, store.endpointSlicesFor(key), { endpointPodNames: false }).names.keys()) allNames.push(name);
}
gc?.();
const heapWithNames = process.memoryUsage().heapUsed;
t0 = performance.now();
let found = 0;
for (const name of allNames) if (index.name(name)) found++;
const lookupUs = ((performance.now() - t0) / allNames.length) * 1000;
if (found !== allNames.length) throw new Error(`only ${found} of ${allNames.length} names found`);
gc?.();
// The list of names is the bench's own: only what the lookups added counts.
const heapFullMb = heapMb + (process.memoryUsage().heapUsed - heapWithNames) / 1024 / 1024;

const UPDATES = 20_000;
t0 = performance.now();
for (let u = 0; u < UPDATES; u++) {
  const i = u % SERVICES;
  const ns = `ns-${i % 100}`;
  store.upsert(endpointSlice(ns, `svc-${i}`, `svc-${i}-a`, [endpoint(`10.200.${(u >> 8) & 255}.${u & 255}`)]));
}
const perUpdateUs = ((performance.now() - t0) / UPDATES) * 1000;

const mb = (n: number) => (gc ? n.toFixed(1) : 'n/a (run with --expose-gc)');
console.log('| services | names | first build ms | heap of the index after the build MB | after looking up every name MB (LRU of computed services full) | name lookup, cold µs | one EndpointSlice update µs |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| ${SERVICES.toLocaleString('en-US')} | ${allNames.length.toLocaleString('en-US')} | ${buildMs.toFixed(0)} | ${mb(heapMb)} | ${mb(heapFullMb)} | ${lookupUs.toFixed(1)} | ${perUpdateUs.toFixed(1)} |`);
