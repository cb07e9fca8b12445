import t from 'tap';
import { silentLogger } from '../../../src/base/log.ts';
import { MemoryRouteTable } from '../../../src/routes/memory-route-table.ts';
import { RouteSyncer } from '../../../src/routes/route-syncer.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import type { NodeRoute } from '../../../src/routes/route-table.ts';

const via = (dst: string, gateway: string): NodeRoute => ({ dst, family: 4, type: 'unicast', gateway });
const blackhole = (dst: string): NodeRoute => ({ dst, family: 4, type: 'blackhole', metric: 4096 });
const installed = (tbl: MemoryRouteTable) => tbl.routes.map((r) => `${r.protocol === NODE_ROUTES_PROTOCOL ? 'netlet' : `proto ${r.protocol}`}: ${describeRoute(r)}`).sort();

t.test('adds, keeps, changes and removes only its own routes', async (t) => {
  const tbl = new MemoryRouteTable();
  tbl.routes.push({ ...via('10.99.0.0/16', '192.168.0.254'), protocol: 4 }, { ...via('0.0.0.0/0', '192.168.0.254'), protocol: 3 });
  const s = new RouteSyncer(tbl, silentLogger);

  const r1 = await s.sync([via('10.244.0.64/26', '192.168.0.2'), blackhole('10.244.0.0/26')]);
  t.same([r1.added, r1.removed, r1.unchanged], [2, 0, 0], 'first sync adds both');

  const r2 = await s.sync([via('10.244.0.64/26', '192.168.0.2'), blackhole('10.244.0.0/26')]);
  t.same([r2.added, r2.removed, r2.unchanged], [0, 0, 2], 'second sync changes nothing');

  const r3 = await s.sync([via('10.244.0.64/26', '192.168.0.3')]);
  t.same([r3.added, r3.removed], [1, 2], 'next hop changed (delete+add), blackhole gone');
  t.same(installed(tbl), ['netlet: 10.244.0.64/26 via 192.168.0.3', 'proto 3: 0.0.0.0/0 via 192.168.0.254', 'proto 4: 10.99.0.0/16 via 192.168.0.254']);

  const r4 = await s.sync([]);
  t.same([r4.added, r4.removed], [0, 1]);
  t.same(installed(tbl), ['proto 3: 0.0.0.0/0 via 192.168.0.254', 'proto 4: 10.99.0.0/16 via 192.168.0.254'], 'foreign routes untouched');
});

t.test('one failing route does not stop the others, and a foreign route in the way stays', async (t) => {
  const tbl = new MemoryRouteTable();
  tbl.routes.push({ ...via('10.244.0.128/26', '192.168.0.254'), protocol: 4 });
  tbl.failAdd.add('10.244.1.0/26');
  const s = new RouteSyncer(tbl, silentLogger);
  const r = await s.sync([via('10.244.1.0/26', '10.0.0.1'), via('10.244.0.128/26', '192.168.0.3'), via('10.244.0.64/26', '192.168.0.2')]);
  t.equal(r.added, 1, 'the good one is added');
  t.same(r.errors.map((e) => e.route).sort(), ['10.244.0.128/26 via 192.168.0.3', '10.244.1.0/26 via 10.0.0.1']);
  t.same(installed(tbl), ['netlet: 10.244.0.64/26 via 192.168.0.2', 'proto 4: 10.244.0.128/26 via 192.168.0.254']);
});

t.test('duplicate owned routes to one prefix are reduced to the wanted one', async (t) => {
  const tbl = new MemoryRouteTable();
  tbl.routes.push({ ...via('10.244.0.64/26', '192.168.0.2'), protocol: NODE_ROUTES_PROTOCOL }, { ...via('10.244.0.64/26', '192.168.0.2'), metric: 5, protocol: NODE_ROUTES_PROTOCOL });
  const r = await new RouteSyncer(tbl, silentLogger).sync([via('10.244.0.64/26', '192.168.0.2')]);
  t.same([r.unchanged, r.removed, r.added], [1, 1, 0]);
  t.equal(tbl.routes.length, 1);
});

t.test('fromLastSync diffs against what the last sync left, without listing the table; a full sync repairs', async (t) => {
  const tbl = new MemoryRouteTable();
  let listings = 0;
  const list = tbl.listOwned.bind(tbl);
  tbl.listOwned = () => {
    listings++;
    return list();
  };
  const s = new RouteSyncer(tbl, silentLogger);
  const first = await s.sync([via('10.244.0.64/26', '192.168.0.2'), blackhole('10.244.0.0/26')], { fromLastSync: true });
  t.same([first.added, listings], [2, 1], 'no last sync yet: the table is listed');

  tbl.routes.splice(tbl.routes.findIndex((r) => r.type === 'blackhole'), 1);
  const r = await s.sync([via('10.244.0.64/26', '192.168.0.3'), blackhole('10.244.0.0/26'), via('10.244.0.128/26', '192.168.0.4')], { fromLastSync: true });
  t.same([r.added, r.removed, r.unchanged, listings], [2, 1, 1, 1], 'changed and new routes applied from the last result alone');
  t.same(installed(tbl), ['netlet: 10.244.0.128/26 via 192.168.0.4', 'netlet: 10.244.0.64/26 via 192.168.0.3'], 'the blackhole someone deleted is not seen');

  const full = await s.sync([via('10.244.0.64/26', '192.168.0.3'), blackhole('10.244.0.0/26'), via('10.244.0.128/26', '192.168.0.4')]);
  t.same([full.added, listings], [1, 2], 'a full sync lists the table and puts it back');

  tbl.failAdd.add('10.244.1.0/26');
  await s.sync([via('10.244.1.0/26', '192.168.0.5')], { fromLastSync: true });
  const again = await s.sync([via('10.244.1.0/26', '192.168.0.5')], { fromLastSync: true });
  t.equal(again.errors.length, 1, 'a failed add is not taken as installed: it is tried again');
});
