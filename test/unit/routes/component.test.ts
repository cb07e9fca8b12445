import t from 'tap';
import { Registry } from 'prom-client';
import { buildConfig } from '../../../src/agent/config.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { createComponents } from '../../../src/agent/components.ts';
import type { IPAMBlock } from '../../../src/k8s/objects.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { RoutesComponent } from '../../../src/routes/component.ts';
import { MemoryRouteTable } from '../../../src/routes/memory-route-table.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import { node } from '../../helpers/objects.ts';

let rv = 100;
const block = (cidr: string, owner: string): IPAMBlock => ({
  kind: 'IPAMBlock',
  meta: { namespace: '', name: cidr.replace(/[.:/]/g, '-'), uid: `u-${cidr}`, resourceVersion: String(rv++) },
  cidr,
  node: owner,
  pool: 'default',
});

function setup() {
  const store = new ObjectStore();
  const config = buildConfig({ routes: { enabled: true } }, { nodeName: 'a' });
  const ctx = { config, log: silentLogger, store, metrics: new Registry(), nodeName: 'a' };
  const table = new MemoryRouteTable();
  const comp = new RoutesComponent(ctx, { table, debounceMs: 1, resyncMs: 60_000 });
  const routes = () => table.routes.filter((r) => r.protocol === NODE_ROUTES_PROTOCOL).map(describeRoute).sort();
  return { store, ctx, table, comp, routes };
}

t.test('nothing is applied before Nodes and IPAMBlocks are synced, then routes follow the store', async (t) => {
  const { store, table, comp, routes } = setup();
  table.routes.push({ dst: '10.244.9.0/26', family: 4, type: 'unicast', gateway: '192.168.0.9', protocol: NODE_ROUTES_PROTOCOL });
  await comp.start();
  t.teardown(() => comp.stop());
  store.upsert(node('a', { internalIPs: ['192.168.0.1'] }));
  store.upsert(node('b', { internalIPs: ['192.168.0.2'] }));
  store.upsert(block('10.244.0.0/26', 'a'));
  store.markSynced('Node');
  await comp.idle();
  t.same(routes(), ['10.244.9.0/26 via 192.168.0.9'], 'an old route survives while the store is not synced');

  store.markSynced('IPAMBlock');
  await new Promise((r) => setImmediate(r));
  await comp.idle();
  t.same(routes(), ['blackhole 10.244.0.0/26 metric 4096'], 'stale route removed, own blackhole added');

  store.upsert(block('10.244.0.64/26', 'b'));
  await new Promise((r) => setTimeout(r, 5));
  await comp.idle();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2', 'blackhole 10.244.0.0/26 metric 4096'], 'new block of b routed');

  store.upsert(node('b', { internalIPs: ['192.168.0.22'] }));
  await new Promise((r) => setTimeout(r, 5));
  await comp.idle();
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.22', 'blackhole 10.244.0.0/26 metric 4096'], 'node address change followed');

  store.remove('Node', 'b');
  await new Promise((r) => setTimeout(r, 5));
  await comp.idle();
  t.same(routes(), ['blackhole 10.244.0.0/26 metric 4096'], 'node gone, its route gone');
  t.ok(comp.healthy());
  await comp.stop();
  t.same(routes(), ['blackhole 10.244.0.0/26 metric 4096'], 'stop leaves routes in place');
  t.notOk(table.closed, 'a table given by the caller is not closed');
});

t.test('a route that failed is retried without waiting for the full resync', async (t) => {
  const { store, table, comp, routes } = setup();
  table.failAdd.add('10.244.0.64/26');
  await comp.start();
  t.teardown(() => comp.stop());
  store.upsert(node('a', { internalIPs: ['192.168.0.1'] }));
  store.upsert(node('b', { internalIPs: ['192.168.0.2'] }));
  store.upsert(block('10.244.0.64/26', 'b'));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');
  await new Promise((r) => setImmediate(r));
  await comp.idle();
  t.same(routes(), [], 'the add failed');
  t.ok(comp.healthy(), 'a route error is not a broken component');
  table.failAdd.clear();
  const deadline = Date.now() + 5000;
  while (routes().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.same(routes(), ['10.244.0.64/26 via 192.168.0.2'], 'added by the retry (resync is a minute away)');
});

t.test('the agent creates the routes component only when routes.enabled', async (t) => {
  const store = new ObjectStore();
  const base = { log: silentLogger, store, metrics: new Registry(), nodeName: 'a' };
  // Proxy off: this test is about the routes line only.
  const off = await createComponents({ ...base, config: buildConfig({ proxy: { mode: 'none' } }, { nodeName: 'a' }) });
  t.notOk(off.some((c) => c.name === 'routes'), 'off by default');
  const on = await createComponents({ ...base, config: buildConfig({ proxy: { mode: 'none' }, routes: { enabled: true } }, { nodeName: 'a' }) });
  t.ok(on.some((c) => c.name === 'routes'), 'on when enabled');
});
