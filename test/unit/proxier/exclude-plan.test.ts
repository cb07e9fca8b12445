// Issue 13 (point 3): one bad object made every sync of its IP family fail,
// so no service was programmed at all (or every later change froze) and no
// log line named it. A failing sync the backend can trace to one plan now
// leaves that plan out, logs it by name, counts it, and programs the rest.

import t from 'tap';
import { Registry } from 'prom-client';
import { memoryLogger } from '../k8s/manifests-helpers.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { ProxierMetrics } from '../../../src/proxier/metrics.ts';
import { Proxier } from '../../../src/proxier/proxier.ts';
import { MAX_EXCLUDED_PLANS } from '../../../src/proxier/family-sync.ts';
import { service, servicePort } from '../../helpers/objects.ts';
import { FakeBackend } from './fake-backend.ts';
import { FakeClock } from './fake-clock.ts';

function setup() {
  const store = new ObjectStore();
  const clock = new FakeClock();
  const registry = new Registry();
  const backend = new FakeBackend();
  const { log, lines } = memoryLogger();
  const proxier = new Proxier({
    store, nodeName: 'node-a', backends: new Map([[4, backend]]), log, metrics: new ProxierMetrics(registry),
    masqueradeAll: false, clusterCIDRs: ['10.244.0.0/16'], minSyncPeriodMs: 1000, syncPeriodMs: 30_000, clock,
  });
  for (const kind of ['Service', 'EndpointSlice', 'Node'] as const) store.markSynced(kind);
  const excluded = async () => Number((await registry.getSingleMetric('netlet_proxy_excluded_service_ports')?.get())?.values[0]?.value ?? NaN);
  return { store, clock, backend, proxier, lines, excluded };
}

t.test('a plan the backend cannot load is left out, named in the log and counted; the others are programmed', async (t) => {
  const { store, clock, backend, proxier, lines, excluded } = setup();
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'] }));
  store.upsert(service('ns', 'bad', { clusterIPs: ['10.96.0.2'] }));
  store.upsert(service('ns', 'c', { clusterIPs: ['10.96.0.3'] }));
  backend.refuses.add('ns/bad:http/tcp');
  await proxier.start();
  await clock.advance(0);
  t.same(backend.last?.keys, ['ns/a:http/tcp', 'ns/c:http/tcp'], 'the first sync programs the good services');
  t.equal(backend.last?.full, true);
  const named = lines.filter((l) => l.level >= 50 && l.service === 'ns/bad:http');
  t.equal(named.length, 1, 'one error line names the service port');
  t.equal(await excluded(), 1, 'netlet_proxy_excluded_service_ports counts it');
  t.equal(proxier.healthy(), true, 'the rest is programmed: healthy');
  t.same(proxier.excludedServicePorts(), ['ns/bad:http (tcp, IPv4)'], 'and the /healthz body lists it from this sync on');

  // Later changes to the others are not frozen by it.
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'], ports: [servicePort({ port: 81 })] }));
  await clock.advance(1000);
  t.same(backend.last?.changed, ['ns/a:http/tcp'], 'a partial sync of the changed service');
  t.same(backend.last?.keys, ['ns/a:http/tcp', 'ns/c:http/tcp'], 'still without the bad one');

  // Fixed, it comes back.
  backend.refuses.clear();
  store.upsert(service('ns', 'bad', { clusterIPs: ['10.96.0.4'] }));
  await clock.advance(1000);
  t.same(backend.last?.keys, ['ns/a:http/tcp', 'ns/bad:http/tcp', 'ns/c:http/tcp'], 'an edited object is tried again');
  t.equal(await excluded(), 0);
  t.same(proxier.excludedServicePorts(), []);
  await proxier.stop();
});

t.test('a plan left out is tried again, unchanged, at the periodic full sync', async (t) => {
  const { store, clock, backend, proxier, lines } = setup();
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'] }));
  store.upsert(service('ns', 'bad', { clusterIPs: ['10.96.0.2'] }));
  backend.refuses.add('ns/bad:http/tcp');
  await proxier.start();
  await clock.advance(0);
  t.same(backend.last?.keys, ['ns/a:http/tcp']);
  await clock.advance(30_000);
  t.equal(lines.filter((l) => l.service === 'ns/bad:http').length, 2, 'still refused at the periodic full sync: left out and named again');
  backend.refuses.clear();
  await clock.advance(30_000);
  t.same(backend.last?.keys, ['ns/a:http/tcp', 'ns/bad:http/tcp'], 'loadable again: back at the next periodic full sync');
  t.same(proxier.excludedServicePorts(), []);
  await proxier.stop();
});

t.test('past MAX_EXCLUDED_PLANS left out, a failing sync fails as a whole (a broken backend must not empty the rules quietly)', async (t) => {
  const { store, clock, backend, proxier, excluded } = setup();
  store.upsert(service('ns', 'good', { clusterIPs: ['10.96.1.1'] }));
  for (let i = 0; i < MAX_EXCLUDED_PLANS + 2; i++) {
    store.upsert(service('ns', `bad-${i}`, { clusterIPs: [`10.96.0.${i + 1}`] }));
    backend.refuses.add(`ns/bad-${i}:http/tcp`);
  }
  await proxier.start();
  await clock.advance(0);
  t.equal(backend.syncs.length, 0, 'no sync succeeded');
  t.equal(await excluded(), MAX_EXCLUDED_PLANS, 'no more than the cap left out');
  await proxier.stop();
});

t.test('a failure that names no plan still fails the sync (nothing is left out)', async (t) => {
  const { store, clock, backend, proxier, excluded } = setup();
  store.upsert(service('ns', 'a'));
  backend.fail = 1;
  await proxier.start();
  await clock.advance(0);
  t.equal(backend.syncs.length, 0);
  await clock.advance(1000);
  t.same(backend.last?.keys, ['ns/a:http/tcp']);
  t.equal(await excluded(), 0);
  await proxier.stop();
});
