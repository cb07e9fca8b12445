// The whole agent (manifest folder → proxier → this backend) in the node
// namespace of topology.ts, with real clients: an endpoint removed from its
// EndpointSlice stops receiving new connections, and an agent restart under a
// continuous request loop loses no request (rules are adopted, never flushed).

import t from 'tap';
import type * as Tap from 'tap';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { buildTopology, curlCode, get, requestLoop } from './topology.ts';
import type { Topology } from './topology.ts';

const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const CONFIG = `
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
proxy:
  clusterCIDR: 10.244.0.0/16
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
  const agent = topo.lab.track(
    topo.node.spawn(process.execPath, [NETLET, 'agent', '--config', cfg, '--manifests', dir, '--node-name', 'node1', '--proxy-mode', 'iptables'], {
      env: { ...process.env, NETLET_IPTABLES_MODE: 'nft' },
    }),
  );
  let log = '';
  agent.stderr?.on('data', (d) => (log += d));
  t.teardown(() => {
    if (!t.passing()) t.comment(log.slice(-3000));
  });
  return agent;
}

async function setup(t: Tap.Test) {
  const topo = await buildTopology('ipa');
  t.teardown(() => topo.lab.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'nlipa-'));
  const cfg = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  await writeFile(cfg, CONFIG);
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, manifests(['10.244.1.2', '10.244.2.2']));
  return { topo, dir, cfg, file };
}

const podOf = (body: string) => body.split(' ')[0];

t.test('an endpoint removed from its slice stops receiving new connections', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setup(t);
  await startAgent(t, topo, dir, cfg);
  await eventually(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
    return seen.size === 2;
  }, 30_000, 200);
  t.pass('both endpoints answer through the ClusterIP');

  await writeFile(`${file}.tmp`, manifests(['10.244.2.2']));
  await rename(`${file}.tmp`, file);
  // Wait on the rules themselves: waiting for a run of answers from pod2
  // passed by chance (1 in 64 per try) before the sync and made this flaky.
  await eventually(async () => !(await topo.node.exec('iptables-nft-save', ['-t', 'nat'])).includes('10.244.1.2'), 20_000, 100);
  const after: string[] = [];
  for (let i = 0; i < 20; i++) after.push(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
  t.same([...new Set(after)], ['pod2'], 'every new connection goes to the remaining endpoint');
});

t.test('an agent restart under a continuous request loop loses no request', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg } = await setup(t);
  const first = await startAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);

  const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
  await eventually(() => loop.requests >= 5, 10_000, 50);
  first.kill('SIGTERM');
  await new Promise((r) => first.once('exit', r));
  const during = loop.requests;
  const second = await startAgent(t, topo, dir, cfg);
  // Until the new agent's first full sync and for a while after.
  await eventually(async () => (await topo.node.exec('curl', ['-s', 'http://127.0.0.1:20249/metrics'], { allowFail: true })).includes('kubeproxy_sync_full_proxy_rules_duration_seconds_count'), 30_000, 200);
  const synced = loop.requests;
  await eventually(() => loop.requests >= synced + 10, 20_000, 50);
  await loop.stop();
  second.kill('SIGTERM');
  t.ok(loop.requests - during >= 10, `requests ran while the agent was down and restarting (${loop.requests - during})`);
  t.equal(loop.failures, 0, `no request failed (${loop.requests} requests)`);
});

t.test('rules flushed by someone else come back within about syncPeriod, with no change to the cluster', { skip: rootSkip() }, async (t) => {
  const { topo, dir } = await setup(t);
  // syncPeriod is how often the canary is polled; fullSyncPeriod stays at its hour, so only the poll can bring the rules back.
  const cfg = join(dir, '..', `${dir.split('/').pop()}-fast.yaml`);
  await writeFile(cfg, `${CONFIG}  iptables: {syncPeriod: 2s, minSyncPeriod: 0s}\n`);
  await startAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);

  // A firewall reload: every nat chain flushed and deleted, our canary with them.
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-F']);
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-X']);
  const flushedAt = Date.now();
  t.not((await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code, 0, 'the service is down without its rules');
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 15_000, 100);
  const backAfter = Date.now() - flushedAt;
  t.ok(backAfter < 10_000, `served again ${backAfter} ms after the flush (syncPeriod 2 s)`);
  const nat = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  t.match(nat, /:KUBE-PROXY-CANARY /, 'the canary is back');
  t.match(nat, /-A PREROUTING .*-j KUBE-SERVICES/, 'and the jump from PREROUTING');

  // Only mangle's canary deleted (kube-proxy's Monitor watches that one first): noticed and put back too.
  await topo.node.exec('iptables-nft', ['-t', 'mangle', '-X', 'KUBE-PROXY-CANARY']);
  await eventually(async () => /:KUBE-PROXY-CANARY /.test(await topo.node.exec('iptables-nft-save', ['-t', 'mangle'])), 15_000, 200);
  t.match(await topo.node.exec('iptables-nft-save', ['-t', 'mangle']), /:KUBE-PROXY-CANARY /, 'the mangle canary came back');
});
