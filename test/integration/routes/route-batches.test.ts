// The netlink table's batches against the real kernel: hundreds of routes
// in a few datagrams, each route's own outcome reported (a failure amid
// others that worked, a removal of a route not there), and only the routes
// that worked in the table.
import t from 'tap';
import { NetlinkRouteTable } from '../../../src/routes/netlink-route-table.ts';
import { BGP_ROUTES_PROTOCOL } from '../../../src/routes/route-table.ts';
import type { NodeRoute } from '../../../src/routes/route-table.ts';
import { Lab, rootSkip } from '../../helpers/netns.ts';

t.test('applyMany: 300 routes, one failing in the middle', { skip: rootSkip(), timeout: 60_000 }, async (t) => {
  const lab = new Lab('rbt');
  t.teardown(() => lab.cleanup());
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  await lab.link(a, b, '192.168.78.1/24', '192.168.78.2/24');
  const table = new NetlinkRouteTable(`/var/run/netns/${a.name}`, [BGP_ROUTES_PROTOCOL]);
  t.teardown(() => table.close());

  const route = (i: number, gateway = '192.168.78.2'): NodeRoute => ({ dst: `10.${50 + (i >> 8)}.${i & 255}.0/24`, family: 4, type: 'unicast', gateway, protocol: BGP_ROUTES_PROTOCOL });
  const routes = Array.from({ length: 300 }, (_, i) => route(i));
  // No address of a covers 10.1.1.1: the kernel refuses this one (ENETUNREACH), and only this one.
  routes[150] = route(150, '10.1.1.1');
  const { added } = await table.applyMany([], routes);
  const failed = added.flatMap((e, i) => (e ? [i] : []));
  t.same(failed, [150], 'only the unreachable one failed');
  t.match(added[150]?.message, /add route 10\.50\.150\.0\/24 via 10\.1\.1\.1 failed: ENETUNREACH/, 'naming the route and the errno');
  const listed = (await a.ip('route', 'show', 'proto', 'bgp')).trim().split('\n');
  t.equal(listed.length, 299, 'the others are in the kernel');
  t.equal((await table.listOwned()).length, 299, 'and listed as owned');

  // Again: every add is EEXIST now; removing a route that is not there is false, not an error.
  const again = await table.applyMany([route(150)], routes.slice(0, 3));
  t.same(again.removed, [false], 'a missing route: false');
  t.same(again.added.map((e) => /EEXIST/.test(e?.message ?? '')), [true, true, true], 'a second add: EEXIST each');

  const { removed } = await table.applyMany(routes.filter((_, i) => i !== 150), []);
  t.ok(removed.every((r) => r === true), 'every installed route removed');
  t.equal((await a.ip('route', 'show', 'proto', 'bgp')).trim(), '', 'none left');
});
