// `kubernetes multicluster clusterset.local` in `netlet dns` against the
// test API server: the ServiceImport CRD installed as the MCS API installs
// it, imports and MCS EndpointSlices applied, the clusterset names asked
// with dig over UDP and TCP, and an import changed and deleted while serving.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../../apiserver/server.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { eventually, sh } from '../../helpers/netns.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

/** The MCS API's ServiceImport CRD, reduced to what the test API server reads (group, names, versions, scope). */
const SERVICE_IMPORT_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'serviceimports.multicluster.x-k8s.io' },
  spec: {
    group: 'multicluster.x-k8s.io', scope: 'Namespaced',
    names: { plural: 'serviceimports', singular: 'serviceimport', kind: 'ServiceImport', shortNames: ['svcim'] },
    versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

const slice = (name: string, service: string, cluster: string, endpoints: Array<{ ip: string; hostname?: string }>) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: 'shop', labels: { 'multicluster.kubernetes.io/service-name': service, 'multicluster.kubernetes.io/source-cluster': cluster } },
  addressType: 'IPv4', ports: [{ name: 'tcp', port: 5432, protocol: 'TCP' }],
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.hostname ? { hostname: e.hostname } : {}), conditions: { ready: true } })),
});

/** The clusterset names over UDP and TCP, with the server's work in `workers` threads. */
async function clustersetAnswers(t: Test, workers: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-mcs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create(SERVICE_IMPORT_CRD);
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const web = api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  api.create({
    apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceImport', metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'ClusterSetIP', ips: ['10.250.0.9'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], sessionAffinity: 'None' },
  });
  api.create({ apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceImport', metadata: { name: 'db', namespace: 'shop' }, spec: { type: 'Headless', ports: [{ name: 'tcp', port: 5432 }] } });
  api.create(slice('db-east-1', 'db', 'east', [{ ip: '10.1.0.4', hostname: 'db-0' }]));
  api.create(slice('db-west-1', 'db', 'west', [{ ip: '10.2.0.4' }]));

  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, '. {\n  kubernetes cluster.local clusterset.local {\n    multicluster clusterset.local\n  }\n}\n');
  // With --workers 2 the imports and slices reach the worker threads' stores too.
  const child = spawn(process.execPath, [netlet, 'dns', '--corefile', corefile, '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--health', '', '--ready', '', '--metrics', '', '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir, KUBERNETES_SERVICE_HOST: '' },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = async (name: string, type = 'A', tcp = false) =>
    (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+noall', '+answer', '+comments', ...(tcp ? ['+tcp'] : []), name, type])).toString();
  const status = (out: string) => /status: (\w+)/.exec(out)?.[1];
  const answers = (out: string) => out.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).filter((_, i) => i !== 1).join(' ')).sort();

  await eventually(async () => ((await dig('web.shop.svc.clusterset.local')).includes('10.250.0.9') ? 'up' : ''), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  for (const tcp of [false, true]) {
    const via = tcp ? 'TCP' : 'UDP';
    t.strictSame(answers(await dig('web.shop.svc.clusterset.local', 'A', tcp)), ['web.shop.svc.clusterset.local. IN A 10.250.0.9'], `${via}: ClusterSetIP A from spec.ips`);
    t.strictSame(answers(await dig('_http._tcp.web.shop.svc.clusterset.local', 'SRV', tcp)), ['_http._tcp.web.shop.svc.clusterset.local. IN SRV 0 100 80 web.shop.svc.clusterset.local.'], `${via}: its port's SRV`);
    t.strictSame(answers(await dig('web.shop.svc.cluster.local', 'A', tcp)), [`web.shop.svc.cluster.local. IN A ${web.spec.clusterIP}`], `${via}: the cluster zone keeps the local Service`);
    t.strictSame(answers(await dig('db.shop.svc.clusterset.local', 'A', tcp)), ['db.shop.svc.clusterset.local. IN A 10.1.0.4', 'db.shop.svc.clusterset.local. IN A 10.2.0.4'], `${via}: Headless A from both clusters`);
    t.strictSame(answers(await dig('_tcp._tcp.db.shop.svc.clusterset.local', 'SRV', tcp)), [
      '_tcp._tcp.db.shop.svc.clusterset.local. IN SRV 0 50 5432 10-2-0-4.west.db.shop.svc.clusterset.local.',
      '_tcp._tcp.db.shop.svc.clusterset.local. IN SRV 0 50 5432 db-0.east.db.shop.svc.clusterset.local.',
    ], `${via}: Headless SRV names hostname.clusterid`);
    t.strictSame(answers(await dig('db-0.east.db.shop.svc.clusterset.local', 'A', tcp)), ['db-0.east.db.shop.svc.clusterset.local. IN A 10.1.0.4'], `${via}: an endpoint by hostname and cluster`);
    t.equal(status(await dig('db-0.west.db.shop.svc.clusterset.local', 'A', tcp)), 'NXDOMAIN', `${via}: not in that cluster`);
    t.equal(status(await dig('cache.shop.svc.clusterset.local', 'A', tcp)), 'NXDOMAIN', `${via}: no import, no name`);
  }

  // Changed and deleted while serving: the watch brings both.
  const imp = api.get('serviceimports.multicluster.x-k8s.io', 'shop', 'web');
  api.update({ ...imp, spec: { ...imp.spec, ips: ['10.250.0.10'] }, metadata: { ...imp.metadata, resourceVersion: undefined } });
  t.ok(await eventually(async () => (await dig('web.shop.svc.clusterset.local')).includes('10.250.0.10'), 20_000), 'a changed import answers its new IP');
  api.delete('serviceimports.multicluster.x-k8s.io', 'shop', 'db');
  t.equal(await eventually(async () => (status(await dig('db.shop.svc.clusterset.local')) === 'NXDOMAIN' ? 'gone' : ''), 20_000), 'gone', 'a deleted import is NXDOMAIN');

  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0);
}

for (const workers of [1, 2]) t.test(`netlet dns answers the clusterset zone from ServiceImports (--workers ${workers})`, (t) => clustersetAnswers(t, workers));

t.test('without the ServiceImport CRD the clusterset zone is empty and the cluster zone answers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-mcs-nocrd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const web = api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, '. {\n  kubernetes cluster.local clusterset.local {\n    multicluster clusterset.local\n  }\n}\n');
  const child = spawn(process.execPath, [netlet, 'dns', '--corefile', corefile, '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--health', '', '--ready', '', '--metrics', ''], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir, KUBERNETES_SERVICE_HOST: '' },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000);
  const dig = async (name: string) => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', name])).toString();
  await eventually(async () => ((await dig('web.shop.svc.cluster.local')).includes(web.spec.clusterIP) ? 'up' : ''), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  t.match(await dig('web.shop.svc.clusterset.local'), /status: NXDOMAIN/, 'no imports: NXDOMAIN');
  t.match(log, /resource not served by the API server; treating it as empty and retrying/, 'the missing resource is said');
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0);
});
