// Cost of the test API server itself at the scale netlet's tests use:
// seeding 10k Services + 10k EndpointSlices + 5k Nodes, a full LIST, a paged
// LIST, and how many updates per second reach a watcher (the watcher reads
// the raw stream in a worker thread, counting lines, so the server's cost is
// what is measured).
// Run: npx node bench/apiserver.ts [--services N] [--nodes N] [--updates N]

import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import http from 'node:http';
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

// Worker: reads `streams` copies of one watch and reports the event lines seen (all
// streams together) and the time between the first and the last.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ maxSockets: 1000 });
let lines = 0, first = 0, last = 0, ready = 0;
const total = workerData.expect * workerData.streams;
for (let s = 0; s < workerData.streams; s++) {
  http.get(workerData.url, { agent }, (res) => {
    if (++ready === workerData.streams) parentPort.postMessage({ ready: true });
    res.on('data', (chunk) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      const now = performance.now();
      if (!first) first = now;
      last = now;
      if (lines >= total) { parentPort.postMessage({ lines, ms: last - first }); process.exit(0); }
    });
  });
}
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

/** GET with node:http, counting bytes (no decoding: the server's cost is measured). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (r) => {
        let n = 0;
        r.on('data', (c: Buffer) => (n += c.length));
        r.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

t0 = performance.now();
let bytes = await rawGet(`${api.url}/apis/discovery.k8s.io/v1/endpointslices`);
rows.push([`LIST all ${nSvc} EndpointSlices (${(bytes / 1e6).toFixed(1)} MB), first`, `${ms(t0)} ms`]);
t0 = performance.now();
bytes = await rawGet(`${api.url}/apis/discovery.k8s.io/v1/endpointslices`);
rows.push(['  the same again (warm)', `${ms(t0)} ms`]);
t0 = performance.now();
bytes = await rawGet(`${api.url}/apis/discovery.k8s.io/v1/endpointslices`, { 'accept-encoding': 'gzip' });
rows.push([`  the same, gzipped (${(bytes / 1e6).toFixed(1)} MB)`, `${ms(t0)} ms`]);

t0 = performance.now();
let token = '';
let pages = 0;
do {
  const res = await fetch(`${api.url}/api/v1/services?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
  const body: any = await res.json();
  token = body.metadata.continue ?? '';
  pages++;
} while (token);
rows.push([`paged LIST of ${nSvc} Services, limit=500 (${pages} pages)`, `${ms(t0)} ms`]);

t0 = performance.now();
await rawGet(`${api.url}/api/v1/nodes`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
rows.push([`LIST ${nNodes} Nodes as a Table (kubectl get)`, `${ms(t0)} ms`]);

async function watchRun(streams: number, updates: number, gen: number): Promise<void> {
  const rv = api.resourceVersion;
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { url: `${api.url}/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=${rv}`, expect: updates, streams },
  });
  await new Promise((r) => worker.once('message', r));
  const done = new Promise<{ lines: number; ms: number }>((r) => worker.once('message', r));
  const t0 = performance.now();
  for (let i = 0; i < updates; i++) {
    api.seed([slice(i % nSvc, gen + Math.floor(i / nSvc))]);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  const genMs = performance.now() - t0;
  const got = await done;
  await worker.terminate();
  rows.push([`EndpointSlice updates applied in-process, ${streams} watcher(s) (${updates})`, `${Math.round((updates / genMs) * 1000)} updates/s`]);
  rows.push([`  … delivered (${got.lines} events over ${streams} stream(s))`, `${Math.round((got.lines / got.ms) * 1000)} events/s`]);
}

await watchRun(1, nUpdates, 1);
await watchRun(20, Math.floor(nUpdates / 5), 100);
rows.push(['server process RSS', `${Math.round(process.memoryUsage().rss / 1e6)} MB`]);
await api.close();

console.log('| measurement | result |');
console.log('|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nnode ${process.version}, ${new Date().toISOString()}; a shared 2-core machine under load from other work`);
