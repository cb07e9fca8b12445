import t from 'tap';
import { Registry } from 'prom-client';
import { ApiClient } from '../../../src/k8s/client.ts';
import { ApiMetrics } from '../../../src/k8s/api-metrics.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';
import { eventually } from '../../helpers/netns.ts';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';
import { fastReflector, rawService, rawSlice } from './reflector-fixtures.ts';
import { resourceSpec } from '../../../src/k8s/resources.ts';

interface Rig {
  server: ApiServer;
  client: ApiClient;
  store: ObjectStore;
  changes: StoreChange[];
  metrics: ApiMetrics;
  registry: Registry;
}

async function rig(t: { teardown(fn: () => unknown): void }, opts: Parameters<typeof startApiServer>[0] = {}): Promise<Rig> {
  const server = await startApiServer(opts);
  const client = new ApiClient({ server: server.url });
  const store = new ObjectStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  const registry = new Registry();
  const metrics = new ApiMetrics(registry, store);
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, store, changes, metrics, registry };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v ? Number(v.value) : 0;
}

t.test('initial sync: 10,000 Services and 10,000 EndpointSlices (3 endpoints each) reach the store', async (t) => {
  const r = await rig(t);
  const objs: object[] = [];
  for (let i = 0; i < 10_000; i++) objs.push(rawService(`ns-${i % 20}`, i), rawSlice(`ns-${i % 20}`, i));
  r.server.seed(objs);
  const svc = fastReflector(r.client, r.store, 'Service', { metrics: r.metrics });
  const eps = fastReflector(r.client, r.store, 'EndpointSlice', { metrics: r.metrics });
  t.teardown(() => Promise.all([svc.stop(), eps.stop()]));
  svc.start();
  eps.start();
  await r.store.whenSynced('Service', 'EndpointSlice');
  t.equal(r.store.count('Service'), 10_000);
  t.equal(r.store.count('EndpointSlice'), 10_000);
  t.same(r.store.endpointSlicesFor('ns-7/svc-7').map((s) => s.endpoints.length), [3]);
  t.ok((r.store.get('Service', 'ns-7/svc-7')?.clusterIPs ?? []).length === 1, 'the server allocated a ClusterIP and it arrived');
  // 500 per page → 20 pages each.
  t.equal(r.server.requestCount('list', 'services'), 20, 'the list was paged with limit/continue');
  t.equal(await metricValue(r.registry, 'netlet_api_objects', { kind: 'EndpointSlice' }), 10_000);
  t.ok((await metricValue(r.registry, 'netlet_api_last_sync_timestamp_seconds', { resource: 'services' })) > 0);
});

t.test('updates arrive in order, deletions remove', async (t) => {
  const r = await rig(t);
  r.server.create(rawService('default', 1));
  const svc = fastReflector(r.client, r.store, 'Service');
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  r.changes.length = 0;
  for (let port = 81; port <= 90; port++) {
    const cur = r.server.get('services', 'default', 'svc-1');
    cur.spec.ports[0].port = port;
    r.server.update(cur);
  }
  r.server.create(rawService('default', 2));
  r.server.delete('services', 'default', 'svc-2');
  await eventually(() => r.changes.length === 12);
  t.same(
    r.changes.slice(0, 10).map((c) => (c.current?.kind === 'Service' ? c.current.ports[0].port : 0)),
    [81, 82, 83, 84, 85, 86, 87, 88, 89, 90],
  );
  t.same(r.changes.slice(10).map((c) => `${c.key}:${c.current ? 'set' : 'gone'}`), ['default/svc-2:set', 'default/svc-2:gone']);
  t.equal(svc.resourceVersion, String(r.server.resourceVersion));
});

t.test('a dropped watch resumes from the last resourceVersion without a relist', async (t) => {
  const r = await rig(t);
  r.server.create(rawService('default', 1));
  const svc = fastReflector(r.client, r.store, 'Service', { metrics: r.metrics });
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  await eventually(() => r.server.requestCount('watch', 'services') === 1 && r.server.statsSnapshot().openWatches === 1);
  for (const graceful of [false, true]) {
    r.server.dropWatches({ resource: 'services', graceful });
    r.server.create(rawService('default', graceful ? 3 : 2)); // changed while no watch was open
    await eventually(() => r.store.count('Service') === (graceful ? 3 : 2));
  }
  t.equal(r.server.requestCount('list', 'services'), 1, 'one list only: the watch resumed');
  t.equal(r.server.requestCount('watch', 'services'), 3);
  const watchUrls = r.server.stats.log().filter((e) => e.verb === 'watch').map((e) => new URL(e.url, 'http://x').searchParams);
  t.ok(watchUrls.every((q) => q.get('allowWatchBookmarks') === 'true' && Number(q.get('timeoutSeconds')) >= 300));
  t.ok(Number(watchUrls[2].get('resourceVersion')) > Number(watchUrls[0].get('resourceVersion')), 'each watch starts from a later RV');
  t.equal(await metricValue(r.registry, 'netlet_api_watch_restarts_total', { resource: 'services' }), 2);
  t.equal(await metricValue(r.registry, 'netlet_api_relists_total', { resource: 'services' }), 0);
});

t.test('bookmarks advance the resourceVersion', async (t) => {
  const r = await rig(t, { bookmarkIntervalMs: 100 });
  r.server.create(rawService('default', 1));
  const svc = fastReflector(r.client, r.store, 'Service');
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  const listed = Number(svc.resourceVersion);
  r.server.create(rawSlice('default', 1)); // moves the global RV; not a service event
  await eventually(() => Number(svc.resourceVersion) > listed);
  t.equal(r.store.count('Service'), 1);
});

for (const row of [
  { name: '410 Gone as an in-stream ERROR event', expire: (s: ApiServer) => s.expireWatches({ resource: 'services' }) },
  {
    name: '410 Gone on the watch request (RV compacted while disconnected)',
    expire: (s: ApiServer) => {
      s.stall(300, { verb: 'watch', resource: 'services', watches: false });
      s.dropWatches({ resource: 'services' });
      s.compact();
    },
  },
]) {
  t.test(`${row.name}: relist emits only the real differences`, async (t) => {
    const r = await rig(t);
    for (let i = 0; i < 50; i++) r.server.create(rawService('default', i));
    const svc = fastReflector(r.client, r.store, 'Service', { metrics: r.metrics });
    t.teardown(() => svc.stop());
    svc.start();
    await r.store.whenSynced('Service');
    await eventually(() => r.server.statsSnapshot().openWatches === 1);
    r.server.stall(400, { verb: 'watch', resource: 'services' }); // changes below happen while the watch is paused
    const s5 = r.server.get('services', 'default', 'svc-5');
    s5.spec.ports[0].port = 8081;
    r.server.update(s5);
    r.server.delete('services', 'default', 'svc-6');
    r.server.create(rawService('default', 99));
    r.changes.length = 0;
    row.expire(r.server);
    await eventually(() => r.server.requestCount('list', 'services') === 2 && r.changes.length >= 3);
    await new Promise((res) => setTimeout(res, 300));
    t.same(r.changes.map((c) => `${c.key}:${c.previous ? 'had' : 'new'}:${c.current ? 'now' : 'gone'}`).sort(), [
      'default/svc-5:had:now',
      'default/svc-6:had:gone',
      'default/svc-99:new:now',
    ]);
    t.equal(r.store.count('Service'), 50);
    t.equal(await metricValue(r.registry, 'netlet_api_relists_total', { resource: 'services' }), 1);
  });
}

t.test('500s on list and watch are retried with growing backoff', async (t) => {
  const r = await rig(t);
  r.server.create(rawService('default', 1));
  r.server.failNext(4, { verb: 'list', resource: 'services', code: 500 });
  const svc = fastReflector(r.client, r.store, 'Service');
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  const lists = r.server.stats.log().filter((e) => e.verb === 'list');
  t.same(lists.map((e) => e.code), [500, 500, 500, 500, 200]);
  const gaps = lists.slice(1).map((e, i) => e.at - lists[i].at);
  // 50 ms doubling to the 400 ms cap, each drawn in [d, 2d): 50, 100, 200, 400.
  t.ok(gaps[0] >= 45 && gaps[3] >= 380, `gaps grow: ${gaps.join(', ')}`);
  t.ok(gaps[3] <= 1000, 'capped');

  await eventually(() => r.server.statsSnapshot().openWatches === 1);
  r.server.failNext(2, { verb: 'watch', resource: 'services', code: 500 });
  r.server.errorWatches(500, 'etcd leader changed');
  r.server.create(rawService('default', 2));
  await eventually(() => r.store.count('Service') === 2);
  t.equal(r.server.requestCount('list', 'services'), 5, 'watch errors resume the watch; no relist');
});

t.test('a stalled watch (no events, no bookmarks) is restarted', async (t) => {
  const r = await rig(t, { bookmarkIntervalMs: 200 });
  r.server.create(rawService('default', 1));
  const svc = fastReflector(r.client, r.store, 'Service', { stallTimeoutMs: 1500, metrics: r.metrics });
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  await eventually(() => r.server.requestCount('watch', 'services') === 1);
  // Bookmarks keep a quiet watch alive: no restart in twice the stall window.
  await new Promise((res) => setTimeout(res, 3000));
  t.equal(r.server.requestCount('watch', 'services'), 1, 'bookmarks count as life');
  r.server.stall(4000, { resource: 'services', verb: 'watch' });
  r.server.create(rawService('default', 2));
  await eventually(() => r.server.requestCount('watch', 'services') >= 2, 6000);
  await eventually(() => r.store.count('Service') === 2, 8000);
  t.equal(r.server.requestCount('list', 'services'), 1);
  t.ok((await metricValue(r.registry, 'netlet_api_watch_restarts_total', { resource: 'services' })) >= 1);
});

t.test('a 429 with Retry-After waits at least that long before the next attempt', async (t) => {
  const r = await rig(t);
  r.server.create(rawService('default', 1));
  r.server.failNext(1, { verb: 'list', resource: 'services', code: 429, retryAfterSeconds: 1 });
  const svc = fastReflector(r.client, r.store, 'Service');
  t.teardown(() => svc.stop());
  svc.start();
  await r.store.whenSynced('Service');
  const lists = r.server.stats.log().filter((e) => e.verb === 'list');
  t.same(lists.map((e) => e.code), [429, 200]);
  t.ok(lists[1].at - lists[0].at >= 950, `waited ${lists[1].at - lists[0].at} ms (backoff alone would be 50-100 ms)`);
});

t.test('field and label selectors: only matching Pods and Services reach the store', async (t) => {
  const r = await rig(t);
  const pod = (name: string, node: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'default', name },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running', podIP: '10.1.0.1', podIPs: [{ ip: '10.1.0.1' }] },
  });
  r.server.create(pod('on-n1', 'n1'));
  r.server.create(pod('on-n2', 'n2'));
  for (let i = 0; i < 4; i++) r.server.create(rawService('default', i)); // labels app: app-<i % 50>
  const pods = fastReflector(r.client, r.store, 'Pod', { resource: { ...resourceSpec('Pod'), fieldSelector: 'spec.nodeName=n1' } });
  const svcs = fastReflector(r.client, r.store, 'Service', { resource: { ...resourceSpec('Service'), labelSelector: 'app in (app-1,app-3)' } });
  t.teardown(() => Promise.all([pods.stop(), svcs.stop()]));
  pods.start();
  svcs.start();
  await r.store.whenSynced('Pod', 'Service');
  t.same([...r.store.list('Pod')].map((p) => p.meta.name), ['on-n1']);
  t.same([...r.store.list('Service')].map((s) => s.meta.name).sort(), ['svc-1', 'svc-3']);
  r.server.create(pod('later-n1', 'n1'));
  r.server.create(pod('later-n2', 'n2'));
  await eventually(() => r.store.count('Pod') === 2);
  t.same([...r.store.list('Pod')].map((p) => p.meta.name).sort(), ['later-n1', 'on-n1']);
  const watches = r.server.stats.log().filter((e) => e.verb === 'watch' && e.resource === 'pods');
  t.match(watches[0].url, /fieldSelector=spec.nodeName%3Dn1/);
});
