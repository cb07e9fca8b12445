// The routes component against the real kernel: two "node" namespaces joined
// by a veth. Node a's component installs the route to b's block via b's
// address and a blackhole for its own block, follows the store as blocks and
// nodes come and go, and never touches a route it does not own.
import t from 'tap';
import { Registry } from 'prom-client';
import { buildConfig } from '../../../src/agent/config.ts';
import { silentLogger } from '../../../src/base/log.ts';
import type { IPAMBlock } from '../../../src/k8s/objects.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { removeNodeRoutes } from '../../../src/routes/cleanup.ts';
import { RoutesComponent } from '../../../src/routes/component.ts';
import { NetlinkRouteTable } from '../../../src/routes/netlink-route-table.ts';
import { RouteSyncer } from '../../../src/routes/route-syncer.ts';
import { directMode, knownRouteModes } from '../../../src/routes/modes.ts';
import { planRoutes } from '../../../src/routes/route-planner.ts';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { node } from '../../helpers/objects.ts';

let rv = 1000;
const block = (cidr: string, owner: string): IPAMBlock => ({
  kind: 'IPAMBlock',
  meta: { namespace: '', name: cidr.replace(/[.:/]/g, '-'), uid: `u-${cidr}`, resourceVersion: String(rv++) },
  cidr,
  node: owner,
  pool: 'default',
});

t.test('routes between two node namespaces', { skip: rootSkip(), timeout: 60_000 }, async (t) => {
  const lab = new Lab('ipm');
  t.teardown(() => lab.cleanup());
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  const [ifA, ifB] = await lab.link(a, b, '192.168.77.1/24', '192.168.77.2/24');
  await a.ip('addr', 'add', 'fd77::1/64', 'dev', ifA, 'nodad');
  await b.ip('addr', 'add', 'fd77::2/64', 'dev', ifB, 'nodad');
  // A pod of node b, and b's way back to a's pods.
  await b.ip('addr', 'add', '10.244.0.66/32', 'dev', 'lo');
  // Foreign routes in a: the admin's static route, and one with the same destination as a netlet route would have.
  await a.ip('route', 'add', '10.99.0.0/16', 'via', '192.168.77.2', 'proto', 'static');
  await a.ip('route', 'add', '10.244.1.0/26', 'via', '192.168.77.2', 'proto', 'bird');

  const store = new ObjectStore();
  const config = buildConfig({ routes: { enabled: true } }, { nodeName: 'a' });
  const table = new NetlinkRouteTable(`/var/run/netns/${a.name}`);
  t.teardown(() => table.close());
  const comp = new RoutesComponent({ log: silentLogger, store, metrics: new Registry(), nodeName: 'a' }, { mode: config.routes.mode, table, debounceMs: 5, resyncMs: 500 });
  await comp.start();
  t.teardown(() => comp.stop());

  const nodeA = node('a', { internalIPs: ['192.168.77.1', 'fd77::1'] });
  const nodeB = node('b', { internalIPs: ['192.168.77.2', 'fd77::2'] });
  store.upsert(nodeA);
  store.upsert(nodeB);
  store.upsert(block('10.244.0.0/26', 'a'));
  store.upsert(block('10.244.0.64/26', 'b'));
  store.upsert(block('fd00:244::40/122', 'b'));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');

  const owned = async () => (await a.ip('route', 'show', 'proto', '88')).trim() + '\n' + (await a.ip('-6', 'route', 'show', 'proto', '88')).trim();
  const out = await eventually(async () => {
    const r = await owned();
    return r.includes('10.244.0.64/26') && r.includes('blackhole 10.244.0.0/26') && r.includes('fd00:244::40/122') ? r : '';
  });
  t.match(out, new RegExp(`10\\.244\\.0\\.64/26 via 192\\.168\\.77\\.2 dev ${ifA}`), "route to b's block via b");
  t.match(out, /blackhole 10\.244\.0\.0\/26 metric 4096/, 'blackhole for our own block');
  t.match(out, new RegExp(`fd00:244::40/122 via fd77::2 dev ${ifA}`), "IPv6 route to b's block");

  // Packets really go there: a reaches b's pod address through the route.
  const ping = await a.exec('ping', ['-c', '1', '-W', '2', '10.244.0.66']);
  t.match(ping, /1 received/, "a reaches the pod on b through b's block route");
  // The kernel answers a route lookup that ends in a blackhole with EINVAL (fib_props[RTN_BLACKHOLE]).
  await t.rejects(a.ip('route', 'get', '10.244.0.5'), /Invalid argument/, 'an unused address of our block is blackholed');
  t.match(await a.ip('route', 'show', 'match', '10.244.0.5'), /blackhole 10\.244\.0\.0\/26/, 'by our blackhole');

  // Re-syncing against what the kernel reports changes nothing (metrics and devices read back as written).
  const again = await new RouteSyncer(table, silentLogger).sync(planRoutes({ nodeName: 'a', nodes: store.list('Node'), blocks: store.list('IPAMBlock') }, directMode).routes);
  t.same([again.added, again.removed, again.unchanged, again.errors.length], [0, 0, 3, 0], 'a second sync is a no-op');

  // A block of b that collides with a foreign route: netlet reports it and leaves the foreign route alone.
  store.upsert(block('10.244.1.0/26', 'b'));
  await new Promise((r) => setTimeout(r, 50));
  await comp.idle();
  const collided = (await a.ip('route', 'show', '10.244.1.0/26')).trim().split('\n');
  t.equal(collided.length, 1, 'one route to the prefix');
  t.match(collided[0], /via 192\.168\.77\.2 .*proto bird/, 'and it is the foreign one, kept');

  // b's block goes away: its route goes; then node b goes: its IPv6 block route goes.
  store.remove('IPAMBlock', '10-244-0-64-26');
  await eventually(async () => !(await owned()).includes('10.244.0.64/26'));
  t.pass("the released block's route is removed");
  store.remove('Node', 'b');
  await eventually(async () => !(await owned()).includes('fd00:244::40/122'));
  t.pass("the deleted node's routes are removed");
  t.match(await owned(), /blackhole 10\.244\.0\.0\/26/, 'our blackhole stays');

  // Someone deletes our blackhole by hand: the next periodic sync, which lists the table (resyncMs), puts it back;
  // a sync a source asks for diffs against what the last sync left, and does not look.
  await a.ip('route', 'del', 'blackhole', '10.244.0.0/26', 'metric', '4096');
  await eventually(async () => (await owned()).includes('blackhole 10.244.0.0/26'));
  t.pass('a route deleted by someone else is restored');

  const foreign = await a.ip('route', 'show', '10.99.0.0/16');
  t.match(foreign, /via 192\.168\.77\.2 .*proto static/, "the admin's static route is untouched");

  await comp.stop();
  t.match(await owned(), /blackhole 10\.244\.0\.0\/26/, 'stopping the component leaves the routes in place');

  // `netlet cleanup`: every netlet inter-node route goes, the foreign ones stay.
  t.equal(await removeNodeRoutes(silentLogger, table, await knownRouteModes({ netnsPath: `/var/run/netns/${a.name}` })), 1, 'cleanup removed our one remaining route');
  t.equal((await owned()).trim(), '', 'no proto 88 route left');
  t.match(await a.ip('route', 'show', '10.99.0.0/16'), /proto static/, 'foreign static route kept');
  t.match(await a.ip('route', 'show', '10.244.1.0/26'), /proto bird/, 'foreign bird route kept');
});
