// `netlet dns --manifests DIR`: the real command, answering dig from a
// manifest folder and following an edit of it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, sh } from '../../helpers/netns.ts';
import { webServiceManifest } from './web-manifest.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const manifest = (clusterIP: string) => `${webServiceManifest(clusterIP)}---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: default
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- addresses: [10.244.0.9]
  hostname: db-0
  conditions: {ready: true}
`;

t.test('netlet dns --manifests', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'cluster.yaml'), manifest('10.96.7.7'));

  const child = spawn(process.execPath, [netlet, 'dns', '--manifests', dir, '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--ready', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? "", 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = async (...args: string[]) => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+short', ...args])).trim();

  t.equal(await eventually(() => dig('web.default.svc.cluster.local').then((a) => (a === '10.96.7.7' ? a : ''))), '10.96.7.7', 'ClusterIP from the manifest');
  t.equal(await dig('_pg._tcp.db.default.svc.cluster.local', 'SRV'), '0 100 5432 db-0.db.default.svc.cluster.local.');
  t.equal(await dig('db-0.db.default.svc.cluster.local'), '10.244.0.9', 'headless endpoint hostname');

  const http = JSON.parse(log.split('\n').find((l) => l.includes('"http":')) ?? '{}').http as Array<{ port: number }>;
  t.equal(http.length, 3, 'health, ready and metrics listening');
  const get = async (port: number, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return `${res.status} ${await res.text()}`;
  };
  t.equal(await get(http[0].port, '/health'), '200 OK');
  t.equal(await get(http[1].port, '/ready'), '200 OK', 'ready once the manifests are loaded');
  t.match(await get(http[2].port, '/metrics'), /^200 /);

  await writeFile(join(dir, 'cluster.yaml'), manifest('10.96.7.8'));
  t.equal(await eventually(() => dig('web.default.svc.cluster.local').then((a) => (a === '10.96.7.8' ? a : ''))), '10.96.7.8', 'follows the edit');

  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  t.equal(code, 0, 'exits cleanly on SIGTERM');
});

t.test('netlet dns rejects a bad --workers by name', async (t) => {
  const child = spawn(process.execPath, [netlet, 'dns', '--workers', '0', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  t.equal(await new Promise((r) => child.once('exit', r)), 2);
  t.match(err, /workers/);
});
