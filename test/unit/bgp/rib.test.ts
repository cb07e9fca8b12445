// The decision process row by row (RFC 4271 9.1.2.2, RFC 4456 9), the
// equal-cost set, and the RIB's bookkeeping: replace, withdraw, drop a peer,
// stale marking and sweeping, changed-prefix reports.
import t from 'tap';
import { comparePaths, selectPaths, type Path } from '../../../src/bgp/rib/path.ts';
import { Rib } from '../../../src/bgp/rib/rib.ts';
import type { PathAttributes } from '../../../src/bgp/wire/attributes.ts';

const path = (peer: string, attrs: PathAttributes = {}, over: Partial<Path> = {}): Path => ({
  prefix: '10.0.0.0/24',
  family: 4,
  peer,
  peerAs: 64512,
  peerRouterId: peer,
  ibgp: true,
  nextHop: peer,
  attributes: { origin: 0, asPath: [], ...attrs },
  stale: false,
  ...over,
});
const seq = (...asns: number[]) => [{ type: 2, asns }];

const rows: Array<[string, Path, Path]> = [
  ['higher LOCAL_PREF', path('10.0.0.9', { localPref: 200 }), path('10.0.0.1', { localPref: 100 })],
  ['LOCAL_PREF of an eBGP path does not count', path('10.0.0.1', { asPath: seq(65001) }, { ibgp: false }), path('10.0.0.2', { asPath: seq(65002), localPref: 50 }, { ibgp: false })],
  ['shorter AS_PATH', path('10.0.0.9', { asPath: seq(1) }), path('10.0.0.1', { asPath: seq(1, 2) })],
  ['an AS_SET counts as one', path('10.0.0.9', { asPath: [{ type: 1, asns: [1, 2, 3] }] }), path('10.0.0.1', { asPath: seq(1, 2) })],
  ['lower ORIGIN', path('10.0.0.9', { origin: 0 }), path('10.0.0.1', { origin: 2 })],
  ['lower MED from the same neighbour AS', path('10.0.0.9', { asPath: seq(7), med: 5 }), path('10.0.0.1', { asPath: seq(7), med: 10 })],
  ['eBGP over iBGP', path('10.0.0.9', { asPath: seq(7) }, { ibgp: false }), path('10.0.0.1', { asPath: seq(7) })],
  ['lower router ID', path('10.0.0.1'), path('10.0.0.9')],
  ['ORIGINATOR_ID stands in for the router ID', path('10.0.0.9', { originatorId: '10.0.0.1' }), path('10.0.0.2')],
  ['shorter CLUSTER_LIST', path('10.0.0.9', { originatorId: '10.0.0.5', clusterList: ['1.1.1.1'] }), path('10.0.0.1', { originatorId: '10.0.0.5', clusterList: ['1.1.1.1', '2.2.2.2'] })],
];
for (const [name, better, worse] of rows) {
  t.test(`best path: ${name}`, async (t) => {
    t.ok(comparePaths(better, worse) < 0, 'the first wins');
    t.ok(comparePaths(worse, better) > 0, 'whatever the order');
    t.equal(selectPaths([worse, better])[0], better);
  });
}

t.test('MED is not compared across neighbour ASes', async (t) => {
  t.equal(selectPaths([path('10.0.0.2', { asPath: seq(8), med: 1 }), path('10.0.0.1', { asPath: seq(7), med: 99 })])[0].peer, '10.0.0.1', 'router ID decides');
});

t.test('equal-cost set: paths equal up to the eBGP/iBGP step', async (t) => {
  const set = selectPaths([path('10.0.0.3'), path('10.0.0.1'), path('10.0.0.2', { asPath: seq(1) })]);
  t.same(set.map((p) => p.peer), ['10.0.0.1', '10.0.0.3']);
});

t.test('the RIB: replace, withdraw, drop, stale and sweep, with changed prefixes reported', async (t) => {
  const rib = new Rib();
  rib.announce(path('10.0.0.1'));
  rib.announce(path('10.0.0.2', {}, { prefix: '10.0.1.0/24' }));
  t.same([...rib.takeChanged()].sort(), ['4|10.0.0.0/24', '4|10.0.1.0/24']);
  rib.announce(path('10.0.0.2'));
  t.same([...rib.takeChanged()], ['4|10.0.0.0/24'], 'a second equal path changes the set');
  t.equal(rib.selectedFor(4, '10.0.0.0/24').length, 2);
  rib.withdraw('10.0.0.1', 4, '10.0.0.0/24');
  t.same(rib.selectedFor(4, '10.0.0.0/24').map((p) => p.peer), ['10.0.0.2']);
  rib.withdraw('10.0.0.1', 4, '10.0.0.0/24');
  rib.takeChanged();
  t.equal(rib.markStale('10.0.0.2'), 2);
  rib.announce(path('10.0.0.2', {}, { prefix: '10.0.1.0/24' }));
  t.equal(rib.dropPeer('10.0.0.2', (p) => p.stale), 1, 'the sweep takes only what was not announced again');
  t.same([...rib.selected()].map((ps) => ps[0].prefix), ['10.0.1.0/24']);
  t.equal(rib.countFrom('10.0.0.2'), 1);
  t.equal(rib.dropPeer('10.0.0.2'), 1);
  t.equal([...rib.selected()].length, 0);
});
