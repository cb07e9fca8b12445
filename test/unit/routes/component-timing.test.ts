// When the routes component syncs, on a hand-driven clock (the shared
// bounded runner's): changes within the debounce window become one sync, a
// periodic full sync repairs a deleted route, a failed sync is retried with
// a growing delay and makes the component unhealthy after 3 in a row, a
// route error is retried sooner than the resync, and stop leaves the routes
// and no timer.
import t from 'tap';
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { RoutesComponent } from '../../../src/routes/component.ts';
import { MemoryRouteTable } from '../../../src/routes/memory-route-table.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import { node } from '../../helpers/objects.ts';
import { FakeClock } from '../proxier/fake-clock.ts';
import { block, RecordingMode } from './fakes.ts';


/** A recording mode that notes when each sync began (ensureDevices is its first step). */
class TimedMode extends RecordingMode {
  readonly syncs: number[] = [];
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    super([]);
    this.#clock = clock;
  }

  override async ensureDevices(): Promise<void> {
    this.syncs.push(this.#clock.now());
    await super.ensureDevices();
  }
}

async function setup(t: Test) {
  const clock = new FakeClock(0);
  const store = new ObjectStore();
  const table = new MemoryRouteTable();
  const mode = new TimedMode(clock);
  const comp = new RoutesComponent({ log: silentLogger, store, metrics: new Registry(), nodeName: 'a' }, { mode, table, clock, debounceMs: 100, resyncMs: 10_000 });
  const routes = () => table.routes.filter((r) => r.protocol === NODE_ROUTES_PROTOCOL).map(describeRoute).sort();
  await comp.start();
  t.teardown(() => comp.stop());
  store.upsert(node('a', { internalIPs: ['192.168.0.1'] }));
  store.upsert(node('b', { internalIPs: ['192.168.0.2'] }));
  store.upsert(block('10.244.0.64/26', 'b'));
  return { clock, store, table, mode, comp, routes, sync: () => { store.markSynced('Node'); store.markSynced('IPAMBlock'); } };
}

t.test('changes within the debounce window are one sync; the periodic sync repairs a deleted route', async (t) => {
  const { clock, store, table, mode, routes, sync } = await setup(t);
  await clock.advance(500);
  t.same(mode.syncs, [], 'no sync before the store is synced');
  sync();
  await clock.advance(0);
  t.same(mode.syncs, [500], 'the first sync at once');
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink']);

  await clock.advance(500);
  store.upsert(block('10.244.0.128/26', 'b'));
  await clock.advance(50);
  store.upsert(block('10.244.0.192/26', 'b'));
  await clock.advance(49);
  t.same(mode.syncs, [500], 'nothing within the window');
  await clock.advance(1);
  t.same(mode.syncs, [500, 1100], 'both changes in one sync, a window after the first');
  t.equal(routes().length, 3);

  table.routes.splice(0, table.routes.length);
  await clock.advance(9_999);
  t.same(routes(), [], 'a route deleted behind our back stays gone until the resync');
  await clock.advance(1);
  t.same(mode.syncs, [500, 1100, 11_100], 'the periodic sync');
  t.equal(routes().length, 3, 'and it repaired the routes');
});

t.test('a failed sync is retried with a growing delay; 3 in a row make the component unhealthy', async (t) => {
  const { clock, mode, comp, routes, sync } = await setup(t);
  mode.failDevices = new Error('no fake0');
  sync();
  await clock.advance(0);
  t.ok(comp.healthy(), '1 failure');
  await clock.advance(2000);
  t.ok(comp.healthy(), '2 failures');
  await clock.advance(4000);
  t.same(mode.syncs, [0, 2000, 6000], 'retries after 2 s, then 4 s');
  t.notOk(comp.healthy(), 'unhealthy after 3 failed syncs in a row');
  t.same(routes(), [], 'no route while devices fail');
  mode.failDevices = undefined;
  await clock.advance(7999);
  t.same(mode.syncs, [0, 2000, 6000], 'the next retry waits 8 s');
  await clock.advance(1);
  t.same(mode.syncs, [0, 2000, 6000, 14_000]);
  t.ok(comp.healthy(), 'healthy again after a good sync');
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink']);
});

t.test('a route error is retried before the resync, backing off, and does not make the component unhealthy', async (t) => {
  const { clock, table, mode, comp, routes, sync } = await setup(t);
  table.failAdd.add('10.244.0.64/26');
  sync();
  await clock.advance(0);
  await clock.advance(7000);
  t.same(mode.syncs, [0, 1000, 3000, 7000], 'retries after 1, 2 and 4 s');
  t.ok(comp.healthy());
  table.failAdd.clear();
  await clock.advance(8000);
  t.same(mode.syncs, [0, 1000, 3000, 7000, 15_000]);
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink'], 'added by the retry');
  await clock.advance(9999);
  t.equal(mode.syncs.length, 5, 'after a clean sync, back to the resync period');
  await clock.advance(1);
  t.equal(mode.syncs.length, 6);
});

t.test('stop leaves the routes and no timer', async (t) => {
  const { clock, comp, routes, sync } = await setup(t);
  sync();
  await clock.advance(0);
  await comp.stop();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink']);
  t.equal(clock.nextTimerAt(), undefined);
});
