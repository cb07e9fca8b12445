// Cost of the test API server itself at the scale netlet's tests use:
// seeding 10k Services + 10k EndpointSlices + 5k Nodes, a full LIST, a paged
// LIST, and how many updates per second reach a watcher (the watcher reads
// the raw stream in a worker thread, counting lines, so the server's cost is
// what is measured).
// Run: npx node bench/apiserver.ts [--services N] [--nodes N] [--updates N]

import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { startApiServer } from '../test/apiserver/server.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '5000' },
    updates: { type: 'string', default: '50000' },
  },
});
const nSvc = Number(values.services);
const nNodes = Number(values.nodes);
const nUpdates = Number(values.updates);

const service = (i: number): any => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `svc-${i}`, namespace: `ns-${i % 50}`, labels: { app: `app-${i}` } },
  spec: { selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});

const slice = (i: number, gen = 0): any => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `svc-${i}-abcde`, namespace: `ns-${i % 50}`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: [0, 1, 2].map((e) => ({
    addresses: [`10.${(i >> 8) & 255}.${i & 255}.${(e * 50 + gen) % 250}`],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: `node-${(i + e) % 5000}`,
    targetRef: { kind: 'Pod', namespace: `ns-${i % 50}`, name: `pod-${i}-${e}` },
  })),
});

const node = (i: number): any => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
  spec: { podCIDR: `10.244.${i % 256}.0/24`, podCIDRs: [`10.244.${i % 256}.0/24`] },
  status: { addresses: [{ type: 'InternalIP', address: `192.168.${i >> 8}.${i & 255}` }], conditions: [{ type: 'Ready', status: 'True' }] },
});

// Worker: reads one watch stream and reports the count of event lines and the time between the first and the last.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
let lines = 0, first = 0, last = 0;
http.get(workerData.url, (res) => {
  parentPort.postMessage({ ready: true });
  res.on('data', (chunk) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    const now = performance.now();
    if (!first) first = now;
    last = now;
    if (lines >= workerData.expect) { parentPort.postMessage({ lines, ms: last - first }); process.exit(0); }
  });
});
`;

const ms = (t0: number): number => Math.round(performance.now() - t0);

const rows: string[][] = [];
const api = await startApiServer({ historySize: nUpdates + 1000, bookmarkIntervalMs: 0 });

const objs: any[] = [];
for (let i = 0; i < nSvc; i++) objs.push(service(i), slice(i));
for (let i = 0; i < nNodes; i++) objs.push(node(i));
let t0 = performance.now();
api.seed(objs);
rows.push([`seed ${nSvc} Services + ${nSvc} EndpointSlices + ${nNodes} Nodes (in-process)`, `${ms(t0)} ms`]);

t0 = performance.now();
let res = await fetch(`${api.url}/apis/discovery.k8s.io/v1/endpointslices`);
let text = await res.text();
rows.push([`LIST all ${nSvc} EndpointSlices (${(text.length / 1e6).toFixed(1)} MB)`, `${ms(t0)} ms`]);

t0 = performance.now();
let token = '';
let pages = 0;
do {
  res = await fetch(`${api.url}/api/v1/services?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
  const body: any = await res.json();
  token = body.metadata.continue ?? '';
  pages++;
} while (token);
rows.push([`paged LIST of ${nSvc} Services, limit=500 (${pages} pages)`, `${ms(t0)} ms`]);

t0 = performance.now();
res = await fetch(`${api.url}/api/v1/nodes`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
text = await res.text();
rows.push([`LIST ${nNodes} Nodes as a Table (kubectl get)`, `${ms(t0)} ms`]);

const rv = api.resourceVersion;
const worker = new Worker(WORKER, {
  eval: true,
  workerData: { url: `${api.url}/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=${rv}`, expect: nUpdates },
});
await new Promise((r) => worker.once('message', r));
const done = new Promise<{ lines: number; ms: number }>((r) => worker.once('message', r));
t0 = performance.now();
for (let i = 0; i < nUpdates; i++) {
  api.seed([slice(i % nSvc, 1 + Math.floor(i / nSvc))]);
  if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
}
const genMs = performance.now() - t0;
const got = await done;
rows.push([`EndpointSlice updates applied in-process (${nUpdates})`, `${Math.round((nUpdates / genMs) * 1000)} updates/s`]);
rows.push([`  … delivered to one watcher (${got.lines} events)`, `${Math.round((got.lines / got.ms) * 1000)} events/s`]);
rows.push(['server process RSS', `${Math.round(process.memoryUsage().rss / 1e6)} MB`]);
await worker.terminate();
await api.close();

console.log('| measurement | result |');
console.log('|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nnode ${process.version}, ${new Date().toISOString()}; a shared 2-core machine under load from other work`);
