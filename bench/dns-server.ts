// Queries per second of the whole server over UDP on loopback, measured
// with dnsperf (bind9's load tool), with one thread and with two
// (SO_REUSEPORT worker threads). The query mix: a ClusterIP A, a headless A
// (5 records), an SRV, an NXDOMAIN from a search-path expansion, a NODATA
// AAAA and a PTR. dnsperf runs on the same 2 cores, so it takes its share.
// Run: npx node bench/dns-server.ts [seconds]

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ObjectStore } from '../src/k8s/store.ts';
import { ClusterDns } from '../src/dns/cluster-dns.ts';
import { defaultDnsConfig } from '../src/dns/config.ts';
import type { Namespace } from '../src/k8s/objects.ts';
import { endpoint, endpointSlice, service } from '../test/helpers/objects.ts';

const execFileP = promisify(execFile);
const seconds = Number(process.argv[2] ?? 8);

const store = new ObjectStore();
for (const name of ['default', 'shop']) {
  const ns: Namespace = { kind: 'Namespace', meta: { namespace: '', name, uid: name, resourceVersion: '1' } };
  store.upsert(ns);
}
for (let i = 0; i < 1000; i++) store.upsert(service('shop', `svc-${i}`, { clusterIPs: [`10.96.${i >> 8}.${i & 255}`] }));
store.upsert(service('shop', 'db', { clusterIPs: [], headless: true }));
store.upsert(endpointSlice('shop', 'db', 'db-1', Array.from({ length: 5 }, (_, i) => endpoint(`10.244.0.${i + 1}`))));
for (const k of ['Service', 'EndpointSlice', 'Namespace'] as const) store.markSynced(k);

const dir = await mkdtemp(join(tmpdir(), 'dns-bench-'));
const queries = join(dir, 'queries');
await writeFile(
  queries,
  [
    'svc-1.shop.svc.cluster.local A',
    'svc-500.shop.svc.cluster.local A',
    'db.shop.svc.cluster.local A',
    '_http._tcp.svc-7.shop.svc.cluster.local SRV',
    'svc-9.shop.svc.cluster.local.shop.svc.cluster.local A',
    'svc-9.shop.svc.cluster.local AAAA',
    '1.0.96.10.in-addr.arpa PTR',
  ].join('\n') + '\n',
);

const rows: string[] = [];
for (const workers of [1, 2]) {
  const dns = new ClusterDns({ store, config: { ...defaultDnsConfig(), listen: [{ host: '127.0.0.1', port: 0 }], workers } });
  await dns.start();
  const port = String(dns.server.addresses()[0].port);
  const { stdout } = await execFileP('dnsperf', ['-s', '127.0.0.1', '-p', port, '-d', queries, '-l', String(seconds), '-c', '8', '-q', '500']);
  await dns.stop();
  const qps = /Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? '?';
  const lat = /Average Latency \(s\):\s+([\d.]+)/.exec(stdout)?.[1] ?? '?';
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(stdout)?.[1] ?? '?';
  rows.push(`| ${workers} | ${Math.round(Number(qps)).toLocaleString('en-US')} | ${(Number(lat) * 1000).toFixed(2)} | ${lost} |`);
}
await rm(dir, { recursive: true, force: true });
console.log('| threads | queries/s | average latency ms | lost |');
console.log('|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
