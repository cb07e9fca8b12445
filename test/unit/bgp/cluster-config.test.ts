// effectiveBgp: the agent config, BGPConfiguration `default` and `node.<name>`, BGPPeer objects
// (node, nodeSelector, peerSelector) and the route reflector label merged into one node's settings.
import t from 'tap';
import { effectiveBgp, ROUTE_REFLECTOR_LABEL, type BgpDefaults } from '../../../src/bgp/cluster-config.ts';
import type { BGPConfiguration, BGPPeer } from '../../../src/k8s/objects.ts';
import { node } from '../../helpers/objects.ts';

const meta = (name: string) => ({ namespace: '', name, uid: '', resourceVersion: '' });
const defaults = (over: Partial<BgpDefaults> = {}): BgpDefaults => ({
  asNumber: 64512, listenPort: 179, nodeToNodeMesh: true, peers: [],
  advertise: { serviceClusterIPs: [], serviceExternalIPs: [], serviceLoadBalancerIPs: [] }, ...over,
});
const conf = (name: string, over: Partial<BGPConfiguration> = {}): BGPConfiguration => ({ kind: 'BGPConfiguration', meta: meta(name), ...over });
const peer = (name: string, over: Partial<BGPPeer>): BGPPeer => ({ kind: 'BGPPeer', meta: meta(name), peerIP: '', asNumber: 0, node: '', nodeSelector: '', peerSelector: '', port: 0, sourceAddress: 'UseNodeIP', ...over });
const rrLabel = { [ROUTE_REFLECTOR_LABEL]: '10.0.0.100' };
const nodes = [
  node('a', { internalIPs: ['10.0.0.1'], labels: { rack: 'r1' } }),
  node('b', { internalIPs: ['10.0.0.2', 'fd00::2'], labels: { rack: 'r2' } }),
  node('rr1', { internalIPs: ['10.0.0.10'], labels: { ...rrLabel } }),
  node('rr2', { internalIPs: ['10.0.0.11'], labels: { ...rrLabel } }),
];
const run = (nodeName: string, o: { defaults?: BgpDefaults; configurations?: BGPConfiguration[]; peers?: BGPPeer[] } = {}) =>
  effectiveBgp({ nodeName, defaults: o.defaults ?? defaults(), nodes, configurations: o.configurations ?? [], peers: o.peers ?? [] });
const names = (e: ReturnType<typeof run>) => e.peers.map((p) => `${p.name}@${p.address}`);

t.test('the agent config alone: the mesh as before', async (t) => {
  const e = run('a');
  t.same([e.asNumber, e.listenPort, e.nodeToNodeMesh, e.clusterId], [64512, 179, true, undefined]);
  t.same(names(e), ['mesh b@10.0.0.2', 'mesh rr1@10.0.0.10', 'mesh rr2@10.0.0.11'], 'one session per family both nodes have');
  t.same(e.peers[0], { address: '10.0.0.2', asNumber: 64512, name: 'mesh b', passive: true, sourceAddress: '10.0.0.1' });
});

t.test('BGPConfiguration default overrides the agent config, node.<name> overrides default', async (t) => {
  const configurations = [
    conf('default', { asNumber: 65000, nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }),
    conf('node.b', { listenPort: 1179, asNumber: 65001 }),
    conf('node.other', { listenPort: 2 }),
  ];
  const a = run('a', { configurations, defaults: defaults({ advertise: { serviceClusterIPs: ['10.99.0.0/16'], serviceExternalIPs: ['192.0.2.0/24'], serviceLoadBalancerIPs: [] } }) });
  t.same([a.asNumber, a.listenPort, a.nodeToNodeMesh], [65000, 179, false]);
  t.same(a.peers, [], 'mesh off');
  t.same(a.advertise, ['10.96.0.0/12', '192.0.2.0/24'], 'a list the object sets replaces the config\'s; one it leaves out is kept');
  const b = run('b', { configurations });
  t.same([b.asNumber, b.listenPort], [65001, 1179]);
});

t.test('BGPPeer with peerIP: node, nodeSelector, every node; config peers first; self never', async (t) => {
  const peers = [
    peer('tor-r1', { peerIP: '192.0.2.1', asNumber: 65100, nodeSelector: "rack == 'r1'", holdTime: 30, port: 1179 }),
    peer('tor-b', { peerIP: '192.0.2.2', asNumber: 65100, node: 'b', sourceAddress: 'None' }),
    peer('global', { peerIP: '192.0.2.3', asNumber: 65100, gracefulRestart: false }),
    peer('dup', { peerIP: '192.0.2.9', asNumber: 1 }),
    peer('to-self', { peerIP: '10.0.0.1', asNumber: 1 }),
  ];
  const cfgPeer = { address: '192.0.2.9', asNumber: 65200, name: 'peer 192.0.2.9' };
  const a = run('a', { peers, defaults: defaults({ nodeToNodeMesh: false, peers: [cfgPeer] }) });
  t.same(names(a), ['peer 192.0.2.9@192.0.2.9', 'BGPPeer global@192.0.2.3', 'BGPPeer tor-r1@192.0.2.1']);
  t.same(a.peers[1], { address: '192.0.2.3', asNumber: 65100, name: 'BGPPeer global', sourceAddress: '10.0.0.1', gracefulRestart: false });
  t.same(a.peers[2], { address: '192.0.2.1', asNumber: 65100, port: 1179, name: 'BGPPeer tor-r1', sourceAddress: '10.0.0.1', holdTime: 30 });
  const b = run('b', { peers, defaults: defaults({ nodeToNodeMesh: false }) });
  t.same(names(b), ['BGPPeer dup@192.0.2.9', 'BGPPeer global@192.0.2.3', 'BGPPeer to-self@10.0.0.1', 'BGPPeer tor-b@192.0.2.2'], "a's address is only a's own");
  t.notOk('sourceAddress' in b.peers[3], 'None: the kernel chooses');
});

t.test("Calico's route reflector pattern: every node peers with the reflectors, reflectors with every node", async (t) => {
  const peers = [peer('rr-mesh', { nodeSelector: 'all()', peerSelector: `has(${ROUTE_REFLECTOR_LABEL})` })];
  const d = defaults({ nodeToNodeMesh: false });
  const a = run('a', { peers, defaults: d });
  t.equal(a.clusterId, undefined);
  t.same(names(a), ['BGPPeer rr-mesh node rr1@10.0.0.10', 'BGPPeer rr-mesh node rr2@10.0.0.11']);
  t.notOk(a.peers.some((p) => p.routeReflectorClient), 'a client has no clients');
  const rr1 = run('rr1', { peers, defaults: d });
  t.equal(rr1.clusterId, '10.0.0.100', 'the label makes it a reflector');
  t.same(names(rr1), ['BGPPeer rr-mesh node a@10.0.0.1', 'BGPPeer rr-mesh node b@10.0.0.2', 'BGPPeer rr-mesh node rr2@10.0.0.11'], 'b only over IPv4: rr1 has no IPv6');
  t.same(rr1.peers.map((p) => !!p.routeReflectorClient), [true, true, false], 'the other reflector of the same cluster is not a client');
  t.same(rr1.peers.map((p) => p.passive), [false, true, true], 'the side whose peer sorts higher as text waits');
  t.same(run('rr2', { peers, defaults: d }).peers.find((p) => p.address === '10.0.0.10')?.passive, false, 'so exactly one side dials');
});

t.test('the route reflector label: other cluster IDs are clients; a bad value is a problem, not a reflector', async (t) => {
  const withOther = [...nodes, node('rr3', { internalIPs: ['10.0.0.12'], labels: { [ROUTE_REFLECTOR_LABEL]: '10.0.0.200' } })];
  const peers = [peer('rr-mesh', { nodeSelector: 'all()', peerSelector: `has(${ROUTE_REFLECTOR_LABEL})` })];
  const rr1 = effectiveBgp({ nodeName: 'rr1', defaults: defaults({ nodeToNodeMesh: false }), nodes: withOther, configurations: [], peers });
  t.equal(rr1.peers.find((p) => p.address === '10.0.0.12')?.routeReflectorClient, true);
  const bad = [node('x', { internalIPs: ['10.0.0.5'], labels: { [ROUTE_REFLECTOR_LABEL]: 'rr-one' } })];
  const x = effectiveBgp({ nodeName: 'x', defaults: defaults({ clusterId: '10.9.9.9' }), nodes: bad, configurations: [], peers: [] });
  t.equal(x.clusterId, '10.9.9.9', 'the config key still holds');
  t.match(x.problems, [/label netlet.io\/route-reflector-cluster-id="rr-one" is not an IPv4 address/]);
});

t.test('a password that cannot be read leaves that peer out, named', async (t) => {
  const peers = [peer('md5', { peerIP: '192.0.2.5', asNumber: 1, password: { secretName: 's', key: 'k' } }), peer('plain', { peerIP: '192.0.2.6', asNumber: 1 })];
  const e = effectiveBgp({ nodeName: 'a', defaults: defaults({ nodeToNodeMesh: false }), nodes, configurations: [], peers, password: () => ({ problem: 'BGPPeer md5: no secret' }) });
  t.same(names(e), ['BGPPeer plain@192.0.2.6']);
  t.same(e.problems, ['BGPPeer md5: no secret']);
  const ok = effectiveBgp({ nodeName: 'a', defaults: defaults({ nodeToNodeMesh: false }), nodes, configurations: [], peers, password: () => ({ password: 'pw' }) });
  t.equal(ok.peers[0].password, 'pw');
});
