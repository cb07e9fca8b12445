// The Corefile's API settings in `netlet dns`: `endpoint` and `tls` (a TLS
// API server that demands a client certificate, no kubeconfig anywhere),
// `labels` (the selector goes to the API server, which lists only what it
// selects: a Service without the label and its endpoints do not exist), and
// the client limits, which the start line reports.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../../apiserver/server.ts';
import { makeCerts } from '../../apiserver/certs.ts';
import { eventually, sh } from '../../helpers/netns.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

t.test('netlet dns: endpoint, tls, labels and client limits from the Corefile', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-api-access-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const certs = await makeCerts(join(dir, 'pki'));
  const api = await startApiServer({ tls: { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert, requireClientCert: true } });
  t.teardown(() => api.close());

  const service = (name: string, labels: Record<string, string>) =>
    api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', labels }, spec: { ports: [{ name: 'http', port: 80 }] } });
  const web = service('web', { app: 'web', tier: 'front' });
  service('db', { app: 'db' });
  const headless = (name: string, labels: Record<string, string>, ip: string) => {
    api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', labels }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
    api.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'shop', labels: { ...labels, 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints: [{ addresses: [ip], conditions: { ready: true } }], ports: [{ port: 80 }],
    });
  };
  headless('cache', { app: 'web', tier: 'cache' }, '10.1.0.7');
  headless('queue', { app: 'queue' }, '10.1.0.8');

  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, `. {
  kubernetes cluster.local {
    endpoint ${api.url}
    tls ${certs.clientCert} ${certs.clientKey} ${certs.caCert}
    labels app in (web, cache), tier
    apiserver_qps 20
    apiserver_burst 5
    apiserver_max_inflight 2
  }
}
`);
  // No kubeconfig anywhere: only the Corefile's endpoint can reach the server.
  const env = { ...process.env, KUBECONFIG: '', HOME: dir, KUBERNETES_SERVICE_HOST: '' };
  const child = spawn(process.execPath, [netlet, 'dns', '--corefile', corefile, '--listen', '127.0.0.1:0', '--health', '', '--ready', '', '--metrics', ''], {
    stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = async (name: string) => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', name])).toString();
  const status = (out: string) => /status: (\w+)/.exec(out)?.[1];

  const webIP: string = web.spec.clusterIP;
  const first = await eventually(async () => {
    const out = await dig('web.shop.svc.cluster.local');
    return out.includes(webIP) ? out : '';
  }, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  t.equal(status(first), 'NOERROR', 'a selected Service answers, over the endpoint with the client certificate');
  t.equal(status(await dig('db.shop.svc.cluster.local')), 'NXDOMAIN', 'a Service the selector leaves out does not exist');
  t.match(await dig('cache.shop.svc.cluster.local'), /10\.1\.0\.7/, 'a selected headless Service answers with its selected EndpointSlice');
  t.equal(status(await dig('queue.shop.svc.cluster.local')), 'NXDOMAIN', 'an unselected headless Service and its endpoints do not exist');

  t.match(log, new RegExp(`"from":"endpoint ${api.url.replace(/[.]/g, '\\.')} \\(client certificate`), 'the start line names the endpoint');
  t.match(log, /"labelSelector":"app in \(web, cache\), tier"/, 'and the selector sent with the lists and watches');
  t.match(log, /"limits":\{"qps":20,"burst":5,"maxInflight":2\}/, 'and the client limits');

  // A relabelled Service leaves the watch as the API server filters it.
  api.update({ ...api.get('services', 'shop', 'web'), metadata: { ...api.get('services', 'shop', 'web').metadata, labels: { app: 'other', tier: 'front' }, resourceVersion: undefined } });
  t.equal(await eventually(async () => (status(await dig('web.shop.svc.cluster.local')) === 'NXDOMAIN' ? 'gone' : ''), 20_000), 'gone', 'a Service relabelled out of the selector stops answering');

  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0);
});
