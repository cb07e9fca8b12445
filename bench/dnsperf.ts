// Cluster DNS under dnsperf: netlet (`netlet dns --corefile`, manifests
// with 10,000 services and 50,000 pods) against dnsmasq serving the same
// 10,000 names from an --addn-hosts file, on the same machine in the same
// run; plus external names forwarded by netlet to a local dnsmasq and
// then served from netlet's cache. Prints a Markdown table.
//
// Run: npx node bench/dnsperf.ts [seconds per run, default 10] [pods, default 50000] [netlet threads, default 1] [source: manifests (default) | api]
// Needs dnsperf and dnsmasq (Debian packages dnsperf, dnsmasq-base).
// With `api` the same objects are served by the test API server
// (test/apiserver/main.ts, another process) and netlet runs `dns --kubeconfig`,
// as it does in a cluster: list, then watch.

import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpPort } from './lib/free-port.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const SERVICES = 10_000;
const PODS = Number(process.argv[3] ?? 50_000);
const WORKERS = Number(process.argv[4] ?? 1);
const SOURCE = process.argv[5] ?? 'manifests';
if (SOURCE !== 'manifests' && SOURCE !== 'api') throw new Error(`source must be manifests or api, got ${SOURCE}`);
const NAMESPACES = 100;
const EXTERNAL = 1000;
/**
 * TTL of dnsmasq's answers (its own default is 0). The external run measures
 * names served from netlet's cache, so they must outlive the run: with TTL 0
 * the cache keeps each answer for its 5 s minimum and the 1000 names, loaded
 * together, all expire together and are asked upstream in one burst every
 * 5 s. NETLET_BENCH_EXTERNAL_TTL=0 measures that case.
 */
const EXTERNAL_TTL = Number(process.env.NETLET_BENCH_EXTERNAL_TTL ?? 30);
const netlet = fileURLToPath(new URL('../bin/netlet.js', import.meta.url));

const ip = (base: string, i: number) => `${base}.${(i >> 8) & 255}.${i & 255}`;
const svcName = (i: number) => `svc-${i}.ns-${i % NAMESPACES}.svc.cluster.local`;

const podIP = (i: number) => ip(`10.${64 + (i >> 16)}`, i & 0xffff);

/** The same objects as writeManifests, as one JSON array for the test API server's --seed. */
async function writeSeed(file: string): Promise<void> {
  const objs: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) objs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` } });
  for (let i = 0; i < SERVICES; i++) {
    objs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: `ns-${i % NAMESPACES}` },
      spec: { clusterIP: ip('10.96', i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  }
  for (let i = 0; i < PODS; i++) {
    objs.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: `ns-${i % NAMESPACES}` },
      spec: { nodeName: `node-${i % 50}`, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      status: { phase: 'Running', podIP: podIP(i), podIPs: [{ ip: podIP(i) }] } });
  }
  await writeFile(file, JSON.stringify(objs));
}

/** Starts the test API server seeded from `seed`; resolves once it listens and has written `kubeconfig`. */
async function startApiServer(seed: string, kubeconfig: string): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../test/apiserver/main.ts', import.meta.url));
  const c = spawn(process.execPath, [main, '--listen', '127.0.0.1:0', '--seed', seed, '--kubeconfig', kubeconfig, '--bookmark-ms', '60000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    c.on('exit', (code) => reject(new Error(`test API server exited with ${code}`)));
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening ')) resolve();
    });
  });
  c.stdout!.resume();
  return c;
}

async function writeManifests(dir: string): Promise<void> {
  const files = 100;
  for (let f = 0; f < files; f++) {
    const docs: string[] = [];
    if (f === 0) for (let n = 0; n < NAMESPACES; n++) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}}\n`);
    for (let i = f * (SERVICES / files); i < (f + 1) * (SERVICES / files); i++) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns-${i % NAMESPACES}}\nspec:\n  clusterIP: ${ip('10.96', i)}\n  ports: [{name: http, port: 80, protocol: TCP}]\n`);
    }
    for (let i = f * (PODS / files); i < (f + 1) * (PODS / files); i++) {
      docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: pod-${i}, namespace: ns-${i % NAMESPACES}}\nspec: {nodeName: node-${i % 50}}\nstatus: {phase: Running, podIP: ${ip(`10.${64 + (i >> 16)}`, i & 0xffff)}, podIPs: [{ip: ${ip(`10.${64 + (i >> 16)}`, i & 0xffff)}}]}\n`);
    }
    await writeFile(join(dir, `f${f}.yaml`), docs.join('---\n'));
  }
}

function run(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.resume();
  return c;
}

function dig(port: number, name: string): string {
  try {
    return execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', name], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function waitFor(what: string, probe: () => boolean, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** utime+stime of a process in seconds (/proc/PID/stat fields 14 and 15, clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function rssMb(pid: number, field = 'VmRSS'): Promise<number> {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Result {
  qps: number;
  avgMs: number;
  p99Ms: number | null;
  lost: string;
  cores: number;
}

async function dnsperf(port: number, file: string, pid: number, extra: string[], wantP99: boolean): Promise<Result> {
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-c', '8', '-q', '200', ...extra];
  if (wantP99) args.push('-v');
  // dnsperf writes into a file, not a pipe to this process: with -v it
  // prints a line per query, and draining 10k lines/s through Node on the
  // same 2 cores doubled the p99 it measured (0.64 → 1.25 ms, 1.29 → 3.27 ms
  // in alternating runs against the same netlet).
  const outFile = join(dir, 'dnsperf.out');
  const fd = openSync(outFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const c = spawn('dnsperf', args, { stdio: ['ignore', fd, 'pipe'] });
      c.stderr!.resume();
      c.on('error', reject);
      c.on('exit', () => resolve());
    });
  } finally {
    closeSync(fd);
  }
  const out = await readFile(outFile, 'utf8');
  const wall = (performance.now() - t0) / 1000;
  const cores = ((await cpuSeconds(pid)) - cpu0) / wall;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? NaN) * 1000;
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '?';
  let p99Ms: number | null = null;
  if (wantP99) {
    // -v: one line per answered query ending in its latency in seconds.
    const lat = out.split('\n').map((l) => /^> \S+ .* ([\d.]+)$/.exec(l)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
    if (lat.length) p99Ms = lat[Math.floor(lat.length * 0.99)] * 1000;
  }
  return { qps, avgMs, p99Ms, lost, cores };
}

const dir = await mkdtemp(join(tmpdir(), 'netlet-bench-dnsperf-'));
const procs: ChildProcess[] = [];
try {
  const manifests = join(dir, 'manifests');
  const kubeconfig = join(dir, 'kubeconfig');
  if (SOURCE === 'api') {
    await writeSeed(join(dir, 'seed.json'));
    procs.push(await startApiServer(join(dir, 'seed.json'), kubeconfig));
  } else {
    await (await import('node:fs/promises')).mkdir(manifests);
    await writeManifests(manifests);
  }
  const hostsFile = join(dir, 'svc.hosts');
  await writeFile(hostsFile, Array.from({ length: SERVICES }, (_, i) => `${ip('10.96', i)} ${svcName(i)}`).join('\n') + '\n');
  const clusterQueries = join(dir, 'cluster.txt');
  await writeFile(clusterQueries, Array.from({ length: SERVICES }, (_, i) => `${svcName(i)} A`).join('\n') + '\n');
  const externalQueries = join(dir, 'external.txt');
  await writeFile(externalQueries, Array.from({ length: EXTERNAL }, (_, i) => `e${i}.ext.test A`).join('\n') + '\n');

  // dnsmasq twice over: the C baseline for the 10k names, and the upstream for external names.
  const dnsmasqPort = await freeUdpPort();
  const dnsmasq = run('dnsmasq', ['--no-daemon', '--conf-file=/dev/null', '--pid-file=', `--port=${dnsmasqPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`, '--address=/ext.test/192.0.2.7', `--local-ttl=${EXTERNAL_TTL}`, '--cache-size=10000', '--user=root', '--group=root']);
  procs.push(dnsmasq);
  await waitFor('dnsmasq', () => dig(dnsmasqPort, svcName(1)) === ip('10.96', 1), 20_000);

  const port = await freeUdpPort();
  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, `.:${port} {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n        pods ${PODS > 0 ? 'verified' : 'insecure'}\n        fallthrough in-addr.arpa ip6.arpa\n        ttl 30\n    }\n    forward . 127.0.0.1:${dnsmasqPort}\n    cache 30\n    loadbalance\n}\n`);
  const loadStart = performance.now();
  const source = SOURCE === 'api' ? ['--kubeconfig', kubeconfig] : ['--manifests', manifests];
  const dns = run(process.execPath, [netlet, 'dns', '--corefile', corefile, ...source, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', '--workers', String(WORKERS)]);
  procs.push(dns);
  await waitFor('netlet to serve the last service', () => dig(port, svcName(SERVICES - 1)) === ip('10.96', SERVICES - 1));
  const loadS = (performance.now() - loadStart) / 1000;
  const rssIdle = await rssMb(dns.pid!);
  // Warm the forwarder's cache with every external name once.
  for (let i = 0; i < EXTERNAL; i += 1) if (i % 100 === 0) dig(port, `e${i}.ext.test`);
  await dnsperf(port, externalQueries, dns.pid!, ['-l', '2'], false);
  // And every cluster name once: the zone index computes a service's names on first ask, dnsmasq read them all at start.
  await dnsperf(port, clusterQueries, dns.pid!, ['-l', '2'], false);

  const rows: Array<[string, Result, Result | null]> = [];
  const netletCluster = await dnsperf(port, clusterQueries, dns.pid!, [], false);
  const dnsmasqCluster = await dnsperf(dnsmasqPort, clusterQueries, dnsmasq.pid!, [], false);
  rows.push(['10k cluster names, max rate', netletCluster, dnsmasqCluster]);
  const netletExternal = await dnsperf(port, externalQueries, dns.pid!, [], false);
  const dnsmasqExternal = await dnsperf(dnsmasqPort, externalQueries, dnsmasq.pid!, [], false);
  rows.push(['1k external names via forward+cache, max rate', netletExternal, dnsmasqExternal]);
  const netlet10k = await dnsperf(port, clusterQueries, dns.pid!, ['-Q', '10000'], true);
  const dnsmasq10k = await dnsperf(dnsmasqPort, clusterQueries, dnsmasq.pid!, ['-Q', '10000'], true);
  rows.push(['10k cluster names at 10k QPS', netlet10k, dnsmasq10k]);
  const rssLoaded = await rssMb(dns.pid!);
  // The peak matters as much: V8 keeps the pages of a freed peak resident (src/base/return-memory.ts).
  const rssPeak = await rssMb(dns.pid!, 'VmHWM');

  const f = (n: number | null, d = 0) => (n === null || Number.isNaN(n) ? '–' : n.toFixed(d));
  console.log(`dnsperf ${SECONDS} s per run, -c 8 -q 200, on 127.0.0.1; ${SERVICES} services, ${PODS} pods (pods ${PODS > 0 ? 'verified' : 'insecure'}) from ${SOURCE === 'api' ? 'the test API server (dns --kubeconfig)' : 'a manifest folder (dns --manifests)'}; netlet threads: ${WORKERS}; machine shared with other work.\n`);
  console.log('| workload | netlet QPS | netlet cores used | netlet QPS per core | netlet avg ms | netlet p99 ms | netlet lost | dnsmasq QPS | dnsmasq avg ms | dnsmasq p99 ms | netlet / dnsmasq |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, n, d] of rows) {
    console.log(`| ${name} | ${f(n.qps)} | ${f(n.cores, 2)} | ${f(n.qps / Math.max(n.cores, 0.01))} | ${f(n.avgMs, 3)} | ${f(n.p99Ms, 3)} | ${n.lost} | ${f(d?.qps ?? null)} | ${f(d?.avgMs ?? null, 3)} | ${f(d?.p99Ms ?? null, 3)} | ${d ? (n.qps / d.qps).toFixed(2) : '–'} |`);
  }
  console.log(`\n| netlet memory | value |\n|---|---:|\n| load to first answer for the last service | ${loadS.toFixed(1)} s |\n| RSS after load (${SERVICES} services, ${PODS} pods) | ${rssIdle.toFixed(0)} MB |\n| RSS after the runs | ${rssLoaded.toFixed(0)} MB |\n| peak RSS (VmHWM) | ${rssPeak.toFixed(0)} MB |`);
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
