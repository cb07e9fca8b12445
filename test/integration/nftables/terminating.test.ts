// The terminating-endpoint fallback (KEP-1669) with real traffic through the
// whole agent in nftables mode: a Serving+Terminating endpoint gets no new
// connection while a ready one exists, takes them all when it is the only
// one left, and once it stops serving the service refuses. With Local
// policies the fallback is among this node's endpoints only: a ready
// endpoint on another node never takes over, and without a serving local
// one the traffic is dropped, not refused.

import t from 'tap';
import { rename, writeFile } from 'node:fs/promises';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';
import { NODE_IP, curlCode, get } from '../iptables/topology.ts';
import { podsAnswering, setupWebAgent, startWebAgent } from '../proxier/web-agent.ts';

const CONFIG = `
healthzBindAddress: 127.0.0.1:20456
metricsBindAddress: 127.0.0.1:20449
proxy:
  mode: nftables
  clusterCIDR: 10.244.0.0/16
  nftables: {syncPeriod: 2s, minSyncPeriod: 0s}
`;

const READY = '{ready: true, serving: true, terminating: false}';
const SERVING_TERMINATING = '{ready: false, serving: true, terminating: true}';
const TERMINATING = '{ready: false, serving: false, terminating: true}';

/** web's manifest with each endpoint's conditions (pod1 is 10.244.1.2, pod2 10.244.2.2). */
async function setEndpoints(file: string, endpoints: { ip: string; conditions: string }[]): Promise<void> {
  const text = [
    nodeYaml('node1', '192.168.100.1'),
    serviceYaml('default', 'web', '10.96.0.10', { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }),
    sliceYaml('default', 'web', 'web-1', { name: 'http', port: 8080, protocol: 'TCP' }, endpoints.map((e) => ({ ...e, nodeName: 'node1' }))),
  ].join('---\n');
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

t.test('agent, nftables: the terminating-endpoint fallback with real traffic', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setupWebAgent(t, 'nftt', CONFIG);
  const table = () => topo.node.exec('nft', ['list', 'table', 'ip', 'netlet']);
  await setEndpoints(file, [
    { ip: '10.244.1.2', conditions: READY },
    { ip: '10.244.2.2', conditions: SERVING_TERMINATING },
  ]);
  startWebAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);
  t.same([...new Set(await podsAnswering(topo, 20))], ['pod1'], 'a ready endpoint exists: the serving-terminating one gets no new connection');

  await setEndpoints(file, [{ ip: '10.244.2.2', conditions: SERVING_TERMINATING }]);
  await eventually(async () => !(await table()).includes('10.244.1.2 . 8080'), 20_000, 100);
  t.same([...new Set(await podsAnswering(topo, 20))], ['pod2'], 'no ready endpoint: new connections fall back to the serving-terminating one');

  await setEndpoints(file, [{ ip: '10.244.2.2', conditions: TERMINATING }]);
  await eventually(async () => !(await table()).includes('10.244.2.2 . 8080'), 20_000, 100);
  const refused = await curlCode(topo.cpod, 'http://10.96.0.10/', 5);
  t.equal(refused.code, 7, 'terminating and no longer serving: connection refused (curl exit 7)');
});

/**
 * web as a LoadBalancer (no LB address: NodePort and health check) with both
 * policies Local: pod1 (10.244.1.2) on this node, pod2 (10.244.2.2) said to
 * be on node2 (the node namespace routes to it all the same).
 */
async function setLocalEndpoints(file: string, pod1: string, pod2: string): Promise<void> {
  const text = [
    nodeYaml('node1', NODE_IP),
    `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  internalTrafficPolicy: Local
  externalTrafficPolicy: Local
  healthCheckNodePort: 30500
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30090}]
`,
    sliceYaml('default', 'web', 'web-1', { name: 'http', port: 8080, protocol: 'TCP' }, [
      { ip: '10.244.1.2', conditions: pod1, nodeName: 'node1' },
      { ip: '10.244.2.2', conditions: pod2, nodeName: 'node2' },
    ]),
  ].join('---\n');
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

t.test('agent, nftables: the terminating fallback with Local policies stays on this node', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setupWebAgent(t, 'nftl', CONFIG.replace('20456', '20556').replace('20449', '20549'));
  const table = () => topo.node.exec('nft', ['list', 'table', 'ip', 'netlet']);
  const clusterIP = async (n: number) => [...new Set(await podsAnswering(topo, n))].sort();
  const nodePort = async (n: number) => {
    const out = new Set<string>();
    for (let i = 0; i < n; i++) out.add((await get(topo.ext, `http://${NODE_IP}:30090/`)).split(' ')[0]);
    return [...out].sort();
  };
  const health = () => topo.ext.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://${NODE_IP}:30500/`], { allowFail: true });

  await setLocalEndpoints(file, READY, READY);
  startWebAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);
  t.same(await clusterIP(15), ['pod1'], 'ClusterIP, Local: only the local endpoint, though a ready one is on node2');
  t.same(await nodePort(10), ['pod1'], 'NodePort from outside, Local: the same');
  t.equal(await eventually(async () => ((await health()) === '200' ? '200' : undefined), 10_000, 200), '200', 'health check 200: a ready local endpoint');

  await setLocalEndpoints(file, SERVING_TERMINATING, READY);
  await eventually(async () => (await health()) === '503', 20_000, 100);
  t.pass('health check 503 once the local endpoint is terminating (no ready local endpoint: the load balancer drains the node)');
  t.same(await clusterIP(15), ['pod1'], 'ClusterIP: falls back to the serving-terminating local endpoint, never to the ready remote one');
  t.same(await nodePort(10), ['pod1'], 'NodePort from outside: the same, its connections are not dropped while the node drains');

  await setLocalEndpoints(file, TERMINATING, READY);
  // Local policies give the service chains of its own: the local endpoint is a DNAT rule there, not a map element.
  await eventually(async () => !(await table()).includes('10.244.1.2:8080'), 20_000, 100);
  const dropped = await curlCode(topo.cpod, 'http://10.96.0.10/', 1);
  t.equal(dropped.code, 28, 'no serving local endpoint, one elsewhere: the ClusterIP drops (curl timeout 28), it does not refuse');
  t.equal((await curlCode(topo.ext, `http://${NODE_IP}:30090/`, 1)).code, 28, 'and so does the NodePort');
  t.equal(await health(), '503');
});
