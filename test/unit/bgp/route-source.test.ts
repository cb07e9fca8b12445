// The BGP route source through the planner: a learned route whose next hop
// is a cluster node goes the mode's way (a tunnel in a tunnel mode, plain in
// direct mode); one from a router is plain in every mode, and the tunnel
// mode keeps no entries for that router.
import t from 'tap';
import { BgpRouteSource, type LearnedRoutes } from '../../../src/bgp/route-source.ts';
import type { Path } from '../../../src/bgp/rib/path.ts';
import { familyOf } from '../../../src/base/family.ts';
import { directMode } from '../../../src/routes/modes.ts';
import { peerOfNode, type Peer } from '../../../src/routes/peer.ts';
import { planFromSources } from '../../../src/routes/route-planner.ts';
import { BGP_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import { node } from '../../helpers/objects.ts';
import { RecordingMode } from '../routes/fakes.ts';

const path = (prefix: string, nextHop: string, peer = nextHop): Path => ({
  prefix,
  family: familyOf(prefix) as 4 | 6,
  peer,
  peerAs: 64512,
  peerRouterId: peer,
  ibgp: true,
  nextHop,
  attributes: {},
  stale: false,
});

const learned = (selected: Path[][]): LearnedRoutes => ({ selected: () => selected, watch: () => () => {}, ready: async () => {} });

const b = peerOfNode(node('b', { internalIPs: ['192.168.0.2'] }), ['10.244.1.0/26']);
const c = peerOfNode(node('c', { internalIPs: ['192.168.0.3'] }), ['10.244.2.0/26']);
const nodes = new Map<string, Peer>([['192.168.0.2', b], ['192.168.0.3', c]]);

const selected = [
  [path('10.244.1.0/26', '192.168.0.2')],
  [path('10.244.2.0/26', '192.168.0.3')],
  // A top-of-rack router's prefix (say a default route of the data centre).
  [path('0.0.0.0/0', '192.168.0.254')],
  // Two routers announcing one prefix: ECMP, plain.
  [path('198.51.100.0/24', '192.168.0.251'), path('198.51.100.0/24', '192.168.0.252')],
];

t.test('a tunnel mode: node next hops through the tunnel, routers plain', async (t) => {
  const source = new BgpRouteSource(learned(selected), { nodeAt: (ip) => nodes.get(ip) });
  const mode = new RecordingMode([]);
  const plan = planFromSources([source], mode);
  t.same(plan.routes.map(describeRoute), [
    '0.0.0.0/0 via 192.168.0.254',
    '10.244.1.0/26 via 192.168.0.2 dev fake0 onlink',
    '10.244.2.0/26 via 192.168.0.3 dev fake0 onlink',
    '198.51.100.0/24 via 192.168.0.251 and 192.168.0.252',
  ]);
  t.ok(plan.routes.every((r) => r.protocol === BGP_ROUTES_PROTOCOL), 'all with proto bgp');
  t.same(plan.peers.map((p) => p.name), ['b', 'c'], 'the mode keeps entries for the nodes only, with their tunnel ends');
  t.same(plan.peers[0].tunnel?.addresses, { 4: '10.244.1.0' });
  t.same(plan.skipped, []);
});

t.test('direct mode: everything plain', async (t) => {
  const source = new BgpRouteSource(learned(selected), { nodeAt: (ip) => nodes.get(ip) });
  const plan = planFromSources([source], directMode);
  t.same(plan.routes.map(describeRoute), [
    '0.0.0.0/0 via 192.168.0.254',
    '10.244.1.0/26 via 192.168.0.2',
    '10.244.2.0/26 via 192.168.0.3',
    '198.51.100.0/24 via 192.168.0.251 and 192.168.0.252',
  ]);
});

t.test('a next hop that is no known node is plain even when the prefix looks like a pod block', async (t) => {
  const source = new BgpRouteSource(learned([[path('10.244.3.0/26', '192.168.0.9')]]), { nodeAt: (ip) => nodes.get(ip) });
  const plan = planFromSources([source], new RecordingMode([]));
  t.same(plan.routes.map(describeRoute), ['10.244.3.0/26 via 192.168.0.9']);
  t.same(plan.peers, []);
});

t.test('reports name the session the path came from', async (t) => {
  const source = new BgpRouteSource(learned([[path('10.244.1.0/26', '192.168.0.2')]]), { nodeAt: (ip) => nodes.get(ip), peerName: () => 'mesh b' });
  t.equal(source.claims().claims[0].node, 'mesh b');
});

t.test('an unchanged selection reuses its claim until its next hop becomes (or stops being) a node', async (t) => {
  const known = new Map<string, Peer>();
  const one = [[path('10.244.1.0/26', '192.168.0.2')]];
  const source = new BgpRouteSource(learned(one), { nodeAt: (ip) => known.get(ip) });
  const first = source.claims().claims[0];
  t.equal(source.claims().claims[0], first, 'the same claim object for the same selection');
  t.equal(first.plain, true, 'a router while no node has that address');
  known.set('192.168.0.2', b);
  const asNode = source.claims().claims[0];
  t.not(asNode, first, 'a new claim once node b is known there');
  t.equal(asNode.peer, b);
  t.notOk(asNode.plain);
  known.clear();
  t.equal(source.claims().claims[0].plain, true, 'plain again when the node goes');
  one[0] = [path('10.244.1.0/26', '192.168.0.5')];
  t.equal(source.claims().claims[0].peer?.addresses[4], '192.168.0.5', 'a new selection gets a new claim');
});
