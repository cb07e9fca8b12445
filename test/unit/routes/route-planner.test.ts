import t from 'tap';
import type { IPAMBlock } from '../../../src/k8s/objects.ts';
import { directMode } from '../../../src/routes/modes.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { planFromSources, planRoutes } from '../../../src/routes/route-planner.ts';
import { BLACKHOLE_METRIC, describeRoute } from '../../../src/routes/route-table.ts';
import { StoreRouteSource } from '../../../src/routes/store-route-source.ts';
import { derivedVtepMac } from '../../../src/routes/vtep-mac.ts';
import { node } from '../../helpers/objects.ts';
import { LearnedSource } from './fakes.ts';

let rv = 1;
const block = (cidr: string, owner: string): IPAMBlock => ({
  kind: 'IPAMBlock',
  meta: { namespace: '', name: cidr.replace(/[.:/]/g, '-'), uid: `u-${cidr}`, resourceVersion: String(rv++) },
  cidr,
  node: owner,
  pool: 'default',
});

const a = node('a', { internalIPs: ['192.168.0.1', 'fd00::1'], podCIDRs: ['10.244.0.0/24'] });
const b = node('b', { internalIPs: ['192.168.0.2', 'fd00::2'], podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] });
const c = node('c', { internalIPs: ['192.168.0.3'], podCIDRs: ['10.244.2.0/24', 'fd00:244:2::/64'] });

const rows: Array<{ name: string; me: string; nodes: ReturnType<typeof node>[]; blocks: IPAMBlock[]; routes: string[]; skipped?: string[]; source: string }> = [
  {
    name: 'blocks: a route per other node\'s block, a blackhole for our own',
    me: 'a',
    nodes: [a, b, c],
    blocks: [block('10.244.0.0/26', 'a'), block('10.244.0.64/26', 'b'), block('10.244.0.128/26', 'c'), block('10.244.0.192/26', 'b')],
    routes: [
      `blackhole 10.244.0.0/26 metric ${BLACKHOLE_METRIC}`,
      '10.244.0.128/26 via 192.168.0.3',
      '10.244.0.192/26 via 192.168.0.2',
      '10.244.0.64/26 via 192.168.0.2',
    ],
    source: 'blocks',
  },
  {
    name: 'blocks win over podCIDRs when the cluster has any',
    me: 'a',
    nodes: [a, b],
    blocks: [block('10.250.0.0/26', 'b')],
    routes: ['10.250.0.0/26 via 192.168.0.2'],
    source: 'blocks',
  },
  {
    name: 'IPv6 blocks go via the IPv6 InternalIP; a node without one is skipped',
    me: 'a',
    nodes: [a, b, c],
    blocks: [block('fd00:10::/122', 'b'), block('fd00:10::40/122', 'c')],
    routes: ['fd00:10::/122 via fd00::2'],
    skipped: ['fd00:10::40/122 c: node c has no IPv6 InternalIP'],
    source: 'blocks',
  },
  {
    name: 'a block of an unknown node gets no route',
    me: 'a',
    nodes: [a],
    blocks: [block('10.244.0.64/26', 'gone')],
    routes: [],
    skipped: ['10.244.0.64/26 gone: node gone is not known'],
    source: 'blocks',
  },
  {
    name: 'podCIDRs when there are no blocks, dual stack',
    me: 'b',
    nodes: [a, b, c],
    blocks: [],
    routes: [
      '10.244.0.0/24 via 192.168.0.1',
      `blackhole 10.244.1.0/24 metric ${BLACKHOLE_METRIC}`,
      '10.244.2.0/24 via 192.168.0.3',
      `blackhole fd00:244:1::/64 metric ${BLACKHOLE_METRIC}`,
    ],
    skipped: ['fd00:244:2::/64 c: node c has no IPv6 InternalIP'],
    source: 'podCIDRs',
  },
  {
    name: 'two nodes with one podCIDR: the first by name wins, the other is reported',
    me: 'a',
    nodes: [a, node('y', { internalIPs: ['192.168.0.9'], podCIDRs: ['10.244.9.0/24'] }), node('x', { internalIPs: ['192.168.0.8'], podCIDRs: ['10.244.9.0/24'] })],
    blocks: [],
    routes: [`blackhole 10.244.0.0/24 metric ${BLACKHOLE_METRIC}`, '10.244.9.0/24 via 192.168.0.8'],
    skipped: ['10.244.9.0/24 y: also claimed by node x'],
    source: 'podCIDRs',
  },
  { name: 'a lone node has only its blackhole', me: 'a', nodes: [a], blocks: [], routes: [`blackhole 10.244.0.0/24 metric ${BLACKHOLE_METRIC}`], source: 'podCIDRs' },
];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const plan = planRoutes({ nodeName: r.me, nodes: r.nodes, blocks: r.blocks }, directMode);
    t.same(plan.routes.map(describeRoute), r.routes, 'routes');
    t.same(plan.skipped.map((s) => `${s.dst} ${s.node}: ${s.reason}`), r.skipped ?? [], 'skipped');
    t.equal(plan.source, r.source, 'source');
  });
}

t.test('planFromSources: a peer is listed once, as the best source describes it', async (t) => {
  const store = new ObjectStore();
  store.upsert(a);
  store.upsert(b);
  store.upsert(block('10.244.0.64/26', 'b'));
  store.upsert(block('10.244.0.128/26', 'b'));
  const learned = new LearnedSource();
  learned.learn('10.96.0.0/24', { name: 'b', addresses: { 4: '192.168.0.99' } });
  const plan = planFromSources([learned, new StoreRouteSource(store, 'a')], directMode);
  t.same(plan.routes.map(describeRoute), ['10.244.0.128/26 via 192.168.0.2', '10.244.0.64/26 via 192.168.0.2', '10.96.0.0/24 via 192.168.0.99'], "each claim is routed as its own source describes the peer");
  const tunnel = { addresses: { 4: '10.244.0.128' }, mac: derivedVtepMac('b') };
  t.same(plan.peers, [{ name: 'b', addresses: { 4: '192.168.0.2', 6: 'fd00::2' }, tunnel }], 'one peer b, from the store (it ranks first), with its tunnel end from its blocks');
});
