// BGPConfiguration and BGPPeer objects from the API, and a route reflector
// chosen by a Node label: the test API server in its own namespace, the
// CRDs and objects applied with kubectl, three netlet agents reading them.
// Calico's RR pattern (mesh off, every node peers with the labelled node,
// which reflects) carries the blocks; deleting the BGPConfiguration turns the
// mesh back on live, adding the a-b session without restarting the others.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnApiServer } from '../../apiserver/spawn.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { Lab, eventually, rootSkip, type Netns } from '../../helpers/netns.ts';
import { type Agent, blockYaml, established, nodeYaml, segment, startAgent } from './bgp-lab.ts';

const CRDS = fileURLToPath(new URL('../../../deploy/crd-bgp.yaml', import.meta.url));
const KUBECTL = '/usr/bin/kubectl';
const RR_LABEL = 'netlet.io/route-reflector-cluster-id';

const rrNodeYaml = (name: string, ip: string, clusterId: string) =>
  nodeYaml(name, ip).replace(`metadata: {name: ${name}}`, `metadata: {name: ${name}, labels: {"${RR_LABEL}": "${clusterId}"}}`);

const bgpObjects = `apiVersion: netlet.io/v1
kind: BGPConfiguration
metadata: {name: default}
spec:
  nodeToNodeMeshEnabled: false
---
apiVersion: netlet.io/v1
kind: BGPPeer
metadata: {name: peer-with-route-reflectors}
spec:
  nodeSelector: all()
  peerSelector: has(${RR_LABEL})
`;

const peersOf = async (agent: Agent) => (await agent.status()).peers.map((p) => `${p.name} ${p.state}`).sort();

t.test('BGP objects from the API: the route reflector pattern, then the mesh live', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const lab = new Lab('bco');
  t.teardown(() => lab.cleanup());
  const api = await lab.netns('api');
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  const rr = await lab.netns('rr');
  await segment(lab, [[api, '192.168.97.200/24'], [a, '192.168.97.1/24'], [b, '192.168.97.2/24'], [rr, '192.168.97.3/24']]);
  const dir = t.testdir({});
  const seed = join(dir, 'seed.yaml');
  writeFileSync(seed, [nodeYaml('a', '192.168.97.1'), nodeYaml('b', '192.168.97.2'), rrNodeYaml('rr', '192.168.97.3', '192.168.97.3'), blockYaml('10.251.0.0/26', 'a'), blockYaml('10.251.0.64/26', 'b')].join('---\n'));
  const server = await spawnApiServer({ wrap: ['ip', 'netns', 'exec', api.name], args: ['--listen', '192.168.97.200:0', '--seed', seed] });
  lab.track(server.child);
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: server.url });
  const kubectl = (...args: string[]) => api.exec(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kcache'), ...args]);

  await kubectl('apply', '--validate=false', '-f', CRDS);
  const objects = join(dir, 'bgp.yaml');
  writeFileSync(objects, bgpObjects);
  await kubectl('apply', '--validate=false', '-f', objects);
  t.match(await kubectl('get', 'bgppeers'), /peer-with-route-reflectors/, 'kubectl reads the BGPPeer back');

  // The agent config says mesh on (its default); the BGPConfiguration turns it off.
  const config = 'bgp:\n  enabled: true';
  const agents = { a: startAgent(t, lab, a, dir, { node: 'a', kubeconfig, config }), b: startAgent(t, lab, b, dir, { node: 'b', kubeconfig, config }), rr: startAgent(t, lab, rr, dir, { node: 'rr', kubeconfig, config }) };
  await established(agents.a, 1);
  await established(agents.b, 1);
  await established(agents.rr, 2);
  t.same(await peersOf(agents.a), ['BGPPeer peer-with-route-reflectors node rr Established'], 'a peers only with the reflector');
  t.same(await peersOf(agents.rr), ['BGPPeer peer-with-route-reflectors node a Established', 'BGPPeer peer-with-route-reflectors node b Established'], 'the reflector with every node');
  t.match(agents.rr.log(), /"routeReflectorClusterId":"192.168.97.3"/, 'the label made rr a route reflector');

  const routeAt = (ns: Netns, prefix: string) => eventually(async () => {
    const r = await ns.ip('route', 'show', 'proto', 'bgp');
    return r.includes(prefix) ? r : '';
  }, 20_000);
  t.match(await routeAt(a, '10.251.0.64/26'), /10\.251\.0\.64\/26 via 192\.168\.97\.2/, "a learns b's block through the reflector, next hop b");
  t.match(await routeAt(b, '10.251.0.0/26'), /10\.251\.0\.0\/26 via 192\.168\.97\.1/, "b learns a's block");

  const rrSince = (await agents.a.status()).peers[0] as unknown as { since: number };
  await kubectl('delete', 'bgpconfiguration', 'default');
  await eventually(async () => (await peersOf(agents.a)).join() === ['BGPPeer peer-with-route-reflectors node rr Established', 'mesh b Established'].join(), 30_000).catch((err) => {
    throw new Error(`${(err as Error).message}: a has ${JSON.stringify((agents.a as Agent).log().slice(-2000))}`);
  });
  t.pass('with the BGPConfiguration gone the mesh is on: a peers with b too');
  const after = (await agents.a.status()).peers.find((p) => p.name.endsWith('node rr')) as unknown as { since: number };
  t.equal(after.since, rrSince.since, 'the session with the reflector was not restarted');

  await kubectl('delete', 'bgppeer', 'peer-with-route-reflectors');
  await eventually(async () => (await peersOf(agents.a)).join() === ['mesh b Established', 'mesh rr Established'].join(), 30_000);
  t.pass('the BGPPeer deleted: the reflector is a mesh peer like any node');

  // A new AS number changes every session: each speaker is rebuilt with it and the mesh comes back.
  writeFileSync(objects, 'apiVersion: netlet.io/v1\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 64600}\n');
  await kubectl('apply', '--validate=false', '-f', objects);
  for (const agent of Object.values(agents)) {
    await eventually(async () => {
      const s = await agent.status();
      return s.asNumber === 64600 && s.peers.length === 2 && s.peers.every((p) => p.asNumber === 64600 && p.state === 'Established');
    }, 40_000);
  }
  t.pass('BGPConfiguration default asNumber: 64600 reaches every node, sessions up again in the new AS');
  t.match(await routeAt(a, '10.251.0.64/26'), /10\.251\.0\.64\/26 via 192\.168\.97\.2/, "and a has b's block again");
});
