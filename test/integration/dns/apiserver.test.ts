// `netlet dns --kubeconfig`: the real command against the test API server
// (list + watch over HTTP), answering dig and following creates and deletes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../../apiserver/server.ts';
import { eventually, sh } from '../../helpers/netns.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

t.test('netlet dns follows the API server', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-api-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));

  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const web = api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  const webIP: string = web.spec.clusterIP;
  api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
  api.create({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.3.1'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.3.2'], hostname: 'db-1', conditions: { ready: false } },
    ],
  });

  const child = spawn(process.execPath, [netlet, 'dns', '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--health', '', '--ready', '', '--metrics', ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = async (...args: string[]) => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+short', ...args])).trim();
  const digStatus = async (name: string) => /status: (\w+)/.exec(await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', name]))?.[1];

  t.equal(await eventually(async () => ((await dig('web.shop.svc.cluster.local')) === webIP ? webIP : ''), 20_000), webIP, 'the allocated ClusterIP');
  t.equal(await dig('db.shop.svc.cluster.local'), '10.244.3.1', 'only the ready endpoint');
  t.equal(await dig('_pg._tcp.db.shop.svc.cluster.local', 'SRV'), '0 100 5432 db-0.db.shop.svc.cluster.local.');

  api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'shop' }, spec: { ports: [{ port: 81 }] } });
  const late: string = api.get('services', 'shop', 'late').spec.clusterIP;
  t.equal(await eventually(async () => ((await dig('late.shop.svc.cluster.local')) === late ? late : '')), late, 'a created service appears');
  api.delete('services', 'shop', 'web');
  t.equal(await eventually(async () => ((await digStatus('web.shop.svc.cluster.local')) === 'NXDOMAIN' ? 'NXDOMAIN' : '')), 'NXDOMAIN', 'a deleted one goes');

  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0);
});
