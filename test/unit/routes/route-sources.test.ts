// The proof that routes are a merge of sources: the store's source and a
// "learned" one (what a BGP speaker will be) programme one memory table
// through the component; each source's routes come and go with it alone, a
// destination both claim follows the merge rule (the store ranks first), and
// the mode's hooks run before the routes they are for.
import t from 'tap';
import type * as Tap from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { RoutesComponent } from '../../../src/routes/component.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import { node } from '../../helpers/objects.ts';
import { block, JournaledTable, LearnedSource, RecordingMode } from './fakes.ts';

const settled = () => new Promise((r) => setTimeout(r, 5));

function setup(t: Tap.Test) {
  const journal: string[] = [];
  const store = new ObjectStore();
  const table = new JournaledTable(journal);
  const mode = new RecordingMode(journal);
  const learned = new LearnedSource();
  const logged: unknown[] = [];
  const log = { ...silentLogger, warn: (o: unknown) => void logged.push(o), child: () => log } as unknown as typeof silentLogger;
  const comp = new RoutesComponent({ log, store, metrics: new Registry(), nodeName: 'a' }, { mode, sources: [learned], table, debounceMs: 1, resyncMs: 60_000 });
  const routes = () => table.routes.filter((r) => r.protocol === NODE_ROUTES_PROTOCOL).map(describeRoute).sort();
  const fillStore = () => {
    store.upsert(node('a', { internalIPs: ['192.168.0.1'] }));
    store.upsert(node('b', { internalIPs: ['192.168.0.2'] }));
    store.upsert(block('10.244.0.0/26', 'a'));
    store.upsert(block('10.244.0.64/26', 'b'));
    store.markSynced('Node');
    store.markSynced('IPAMBlock');
  };
  /** Lets the sources' changes reach the table. */
  const applied = async () => {
    await settled();
    await comp.idle();
  };
  const start = async () => {
    await comp.start();
    t.teardown(() => comp.stop());
  };
  return { journal, store, table, mode, learned, comp, routes, fillStore, logged, applied, start };
}

t.test('two sources programme one table; each one\'s routes follow it alone', async (t) => {
  const { store, learned, comp, applied, start, routes, fillStore, mode } = setup(t);
  await start();
  fillStore();
  learned.learn('10.96.0.0/24', { name: 'x', addresses: { 4: '192.168.0.9' } });
  await applied();
  t.same(routes(), [], 'nothing is applied while one source is not ready (the store alone would delete the learned routes)');

  learned.markReady();
  await applied();
  t.same(routes(), [
    '10.244.0.64/26 via 192.168.0.2 dev fake0 onlink',
    '10.96.0.0/24 via 192.168.0.9 dev fake0 onlink',
    'blackhole 10.244.0.0/26 metric 4096',
  ], 'the merge of both sources');
  t.same(mode.neighbours, ['b 192.168.0.2', 'x 192.168.0.9'], "the mode keeps entries for both sources' peers");

  learned.withdraw('10.96.0.0/24');
  await applied();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink', 'blackhole 10.244.0.0/26 metric 4096'], "a withdrawn learned route goes; the store's stay");
  t.same(mode.neighbours, ['b 192.168.0.2'], 'and so do the entries of its peer');

  learned.learn('10.96.1.0/24', { name: 'x', addresses: { 4: '192.168.0.9' } });
  store.remove('IPAMBlock', block('10.244.0.64/26', 'b').meta.name);
  await applied();
  t.same(routes(), ['10.96.1.0/24 via 192.168.0.9 dev fake0 onlink', 'blackhole 10.244.0.0/26 metric 4096'], "a block removed from the store goes; the learned route stays");
});

t.test('a destination both sources claim follows the merge rule: the store ranks first', async (t) => {
  const { learned, comp, applied, start, routes, fillStore, store, logged } = setup(t);
  await start();
  fillStore();
  learned.learn('10.244.0.64/26', { name: 'x', addresses: { 4: '192.168.0.9' } });
  learned.learn('10.244.0.0/26', { name: 'x', addresses: { 4: '192.168.0.9' } });
  learned.markReady();
  await applied();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2 dev fake0 onlink', 'blackhole 10.244.0.0/26 metric 4096'], "the store's routes win both destinations");
  t.same(
    logged.map((l) => { const s = l as { dst: string; source: string; reason: string }; return `${s.source} ${s.dst}: ${s.reason}`; }),
    [
      'learned 10.244.0.0/26: also claimed by source store, which ranks first (for node a)',
      'learned 10.244.0.64/26: also claimed by source store, which ranks first (for node b)',
    ],
    'each losing claim is reported once, naming the winner',
  );

  store.remove('IPAMBlock', block('10.244.0.64/26', 'b').meta.name);
  await applied();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.9 dev fake0 onlink', 'blackhole 10.244.0.0/26 metric 4096'], 'once the store lets go, the learned claim takes the destination');
});

t.test("the mode's hooks run on every sync, devices then neighbours, before any route changes", async (t) => {
  const { learned, comp, applied, start, fillStore, journal } = setup(t);
  await start();
  fillStore();
  learned.markReady();
  await applied();
  t.same(journal, [
    'ensureDevices',
    'syncNeighbours b',
    'add blackhole 10.244.0.0/26 metric 4096',
    'add 10.244.0.64/26 via 192.168.0.2 dev fake0 onlink',
  ]);
  journal.length = 0;
  learned.learn('10.96.0.0/24', { name: 'x', addresses: { 4: '192.168.0.9' } });
  await applied();
  t.same(journal, ['ensureDevices', 'syncNeighbours b,x', 'add 10.96.0.0/24 via 192.168.0.9 dev fake0 onlink'], 'a new peer gets its entries before its route');
  journal.length = 0;
  learned.withdraw('10.96.0.0/24');
  await applied();
  t.same(journal, ['ensureDevices', 'syncNeighbours b', 'remove 10.96.0.0/24 via 192.168.0.9 dev fake0 onlink'], 'a peer that left: its entries, then its route');
});

t.test('a failing device hook fails the sync before any route is touched', async (t) => {
  const { learned, comp, applied, start, fillStore, journal, mode, routes, table } = setup(t);
  table.routes.push({ dst: '10.9.9.0/24', family: 4, type: 'unicast', gateway: '192.168.0.99', protocol: NODE_ROUTES_PROTOCOL });
  mode.failDevices = new Error('cannot create fake0');
  await start();
  fillStore();
  learned.markReady();
  await applied();
  t.same(journal, ['ensureDevices'], 'no neighbours, no routes');
  t.same(routes(), ['10.9.9.0/24 via 192.168.0.99'], 'the installed routes are left as they were');
  t.ok(comp.healthy(), 'one failed sync is not yet unhealthy');
});
