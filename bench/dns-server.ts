// Queries per second of the whole server over UDP on loopback, measured
// with dnsperf (bind9's load tool): UDP through the recvmmsg/sendmmsg
// addon (native/udp-batch.c) and through node:dgram, with one thread and
// with two (SO_REUSEPORT worker threads), plus the server's CPU time per
// answered query (all its threads). The query mix: a ClusterIP A, a
// headless A (5 records), an SRV, an NXDOMAIN from a search-path
// expansion, a NODATA AAAA and a PTR. dnsperf runs on the same 2 cores, so
// it takes its share.
// Run: npx node bench/dns-server.ts [seconds]

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ObjectStore } from '../src/k8s/store.ts';
import { ClusterDns } from '../src/dns/cluster-dns.ts';
import { defaultDnsConfig } from '../src/dns/corefile/config.ts';
import { udpBatchAddon } from '../src/dns/transport/udp-batch.ts';
import type { Namespace } from '../src/k8s/objects.ts';
import { endpoint, endpointSlice, service } from '../test/helpers/objects.ts';

const execFileP = promisify(execFile);
const seconds = Number(process.argv[2] ?? 8);

// The UDP path is chosen when the server module loads (NETLET_DNS_UDP), so
// each path runs in a child process of its own; the parent prints the table.
if (!process.env.DNS_BENCH_CHILD) {
  const rows: string[] = [];
  for (const udp of ['batch', 'dgram']) {
    const env = { ...process.env, DNS_BENCH_CHILD: '1', NETLET_DNS_UDP: udp };
    const { stdout } = await execFileP(process.execPath, [fileURLToPath(import.meta.url), String(seconds)], { env });
    rows.push(...stdout.trim().split('\n').filter(Boolean));
  }
  console.log(`dnsperf -c 8 -q 500, ${seconds} s per row, 127.0.0.1; machine shared with other work.\n`);
  console.log('| UDP path | threads | queries/s | average latency ms | lost | server CPU µs per query | server cores used |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  process.exit(0);
}

const udpPath = udpBatchAddon() ? 'recvmmsg/sendmmsg addon' : 'node:dgram';
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

for (const workers of [1, 2]) {
  const dns = new ClusterDns({ store, config: { ...defaultDnsConfig(), listen: [{ host: '127.0.0.1', port: 0 }], workers } });
  await dns.start();
  const port = String(dns.server.addresses()[0].port);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { stdout } = await execFileP('dnsperf', ['-s', '127.0.0.1', '-p', port, '-d', queries, '-l', String(seconds), '-c', '8', '-q', '500']);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await dns.stop();
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(stdout)?.[1] ?? NaN);
  const lat = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(stdout)?.[1] ?? '?';
  const cpuUs = cpu.user + cpu.system;
  console.log(`| ${udpPath} | ${workers} | ${Math.round(qps).toLocaleString('en-US')} | ${(lat * 1000).toFixed(2)} | ${lost} | ${(cpuUs / completed).toFixed(1)} | ${(cpuUs / 1e6 / wall).toFixed(2)} |`);
}
await rm(dir, { recursive: true, force: true });
