// The whole agent with --proxy-mode nftables (manifest folder → proxier →
// the nftables backend) in the node namespace of the iptables suite's
// topology: an endpoint removed from its slice, a restart under a request
// loop, a deleted table coming back within syncPeriod, `netlet cleanup`.

import t from 'tap';
import type * as Tap from 'tap';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { buildTopology, curlCode, get, requestLoop } from '../iptables/topology.ts';
import type { Topology } from '../iptables/topology.ts';

const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const CONFIG = `
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
proxy:
  mode: nftables
  clusterCIDR: 10.244.0.0/16
  nftables: {syncPeriod: 2s, minSyncPeriod: 0s}
`;

const manifests = (endpoints: string[]) => `
apiVersion: v1
kind: Node
metadata: {name: node1}
status: {addresses: [{type: InternalIP, address: 192.168.100.1}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
${endpoints.map((ip) => `- {addresses: [${ip}], conditions: {ready: true}, nodeName: node1}`).join('\n')}
`;

async function startAgent(t: Tap.Test, topo: Topology, dir: string, cfg: string): Promise<ChildProcess> {
  const agent = topo.lab.track(topo.node.spawn(process.execPath, [NETLET, 'agent', '--config', cfg, '--manifests', dir, '--node-name', 'node1']));
  let log = '';
  agent.stderr?.on('data', (d) => (log += d));
  t.teardown(() => {
    if (!t.passing()) t.comment(log.slice(-3000));
  });
  return agent;
}

async function setup(t: Tap.Test) {
  const topo = await buildTopology('nfa');
  t.teardown(() => topo.lab.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'nlnfa-'));
  const cfg = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  await writeFile(cfg, CONFIG);
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, manifests(['10.244.1.2', '10.244.2.2']));
  return { topo, dir, cfg, file };
}

const podOf = (body: string) => body.split(' ')[0];

t.test('agent: spread, an endpoint removed from its slice, a deleted table back within syncPeriod, no iptables rules', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setup(t);
  await startAgent(t, topo, dir, cfg);
  await eventually(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
    return seen.size === 2;
  }, 30_000, 200);
  t.pass('both endpoints answer through the ClusterIP');
  t.notMatch(await topo.node.exec('iptables-nft-save', []), /KUBE-/, 'no iptables rules in this mode');

  await writeFile(`${file}.tmp`, manifests(['10.244.2.2']));
  await rename(`${file}.tmp`, file);
  await eventually(async () => !(await topo.node.exec('nft', ['list', 'table', 'ip', 'netlet'])).includes('10.244.1.2 . 8080'), 20_000, 100);
  const after: string[] = [];
  for (let i = 0; i < 20; i++) after.push(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
  t.same([...new Set(after)], ['pod2'], 'every new connection goes to the remaining endpoint');

  await topo.node.exec('nft', ['delete', 'table', 'ip', 'netlet']);
  const deletedAt = Date.now();
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 15_000, 100);
  t.ok(Date.now() - deletedAt < 10_000, `served again ${Date.now() - deletedAt} ms after the table was deleted (syncPeriod 2 s)`);
  const metrics = await topo.node.exec('curl', ['-s', 'http://127.0.0.1:20249/metrics']);
  t.match(metrics, /kubeproxy_sync_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/, "kube-proxy's sync metrics");
});

t.test('agent: a restart under a continuous request loop loses no request; netlet cleanup removes the tables', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg } = await setup(t);
  const first = await startAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);

  const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
  await eventually(() => loop.requests >= 5, 10_000, 50);
  first.kill('SIGTERM');
  await new Promise((r) => first.once('exit', r));
  const during = loop.requests;
  const second = await startAgent(t, topo, dir, cfg);
  await eventually(async () => (await topo.node.exec('curl', ['-s', 'http://127.0.0.1:20249/metrics'], { allowFail: true })).includes('kubeproxy_sync_full_proxy_rules_duration_seconds_count'), 30_000, 200);
  const synced = loop.requests;
  await eventually(() => loop.requests >= synced + 10, 20_000, 50);
  await loop.stop();
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));
  t.ok(loop.requests - during >= 10, `requests ran while the agent was down and restarting (${loop.requests - during})`);
  t.equal(loop.failures, 0, `no request failed (${loop.requests} requests)`);

  // kube-proxy's nftables tables, as its nftables mode leaves them.
  await topo.node.exec('nft', ['add', 'table', 'ip', 'kube-proxy']);
  await topo.node.exec('nft', ['add', 'table', 'ip6', 'kube-proxy']);
  await topo.node.exec('nft', ['add', 'table', 'ip', 'foreign']);
  const out = await topo.node.exec(process.execPath, [NETLET, 'cleanup', '--kube-proxy']);
  t.match(out, /nftables ip netlet: removed 1 table/, 'netlet cleanup reports the table');
  t.match(out, /nftables ip6 kube-proxy: removed 1 table/, "and kube-proxy's");
  const tables = await topo.node.exec('nft', ['list', 'tables']);
  t.notMatch(tables, /netlet|kube-proxy/, 'both gone');
  t.match(tables, /table ip foreign/, 'a foreign table stays');
});
