import t from 'tap';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ApiMetrics } from '../../../src/k8s/api-metrics.ts';
import { ApiSource } from '../../../src/k8s/api-source.ts';
import { Backoff } from '../../../src/k8s/backoff.ts';
import { ApiClient } from '../../../src/k8s/client.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import { snapshotAccess } from '../../../src/k8s/snapshot-access.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';
import { eventually } from '../../helpers/netns.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { rawNode, rawService, rawSlice } from './reflector-fixtures.ts';

// The edge-node story: the agent ran once and kept a snapshot; it restarts
// while the API server is down, serves the snapshot (offline), keeps
// retrying, and when the API returns the live state replaces the snapshot
// with only the real differences emitted.

t.test('snapshot restored when the API server is down at start, then replaced when it returns', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-offline-'));
  const file = join(dir, 'state.json');
  const server = await startApiServer();
  const port = server.port;
  t.teardown(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 20; i++) server.create(rawService('default', i));
  for (let i = 0; i < 20; i++) server.create(rawSlice('default', i));
  for (let i = 0; i < 3; i++) server.create(rawNode(i));

  const source = (store: ObjectStore, registry: Registry, logs: object[] = []) => {
    const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
    const client = new ApiClient({ server: server.url });
    const src = new ApiSource({
      client,
      store,
      kinds: ALL_KINDS,
      log,
      metrics: new ApiMetrics(registry, store),
      snapshot: snapshotAccess(file, store, log, ALL_KINDS, 50),
      reflector: { backoff: () => new Backoff({ initialMs: 50, maxMs: 300 }), stallTimeoutMs: 5000 },
    });
    return { src, client };
  };
  const offlineGauge = async (r: Registry) => Number((await r.getSingleMetric('netlet_offline')?.get())?.values[0]?.value);

  // 1. A first run online writes the snapshot.
  {
    const store = new ObjectStore();
    const registry = new Registry();
    const { src, client } = source(store, registry);
    await src.start();
    t.equal(src.offline, false);
    t.same(src.details(), {});
    t.equal(await offlineGauge(registry), 0);
    await eventually(() => stat(file).then(() => true, () => false));
    await src.stop();
    await client.close();
  }

  // 2. The API server goes away; changes happen there meanwhile.
  await server.close();
  const s3 = server.get('services', 'default', 'svc-3');
  s3.spec.ports[0].port = 8443;
  server.update(s3);
  server.delete('services', 'default', 'svc-4');
  server.create(rawService('default', 99));

  const store = new ObjectStore();
  const registry = new Registry();
  const logs: { msg?: string; snapshotTime?: string }[] = [];
  const { src, client } = source(store, registry, logs);
  t.teardown(async () => {
    await src.stop();
    await client.close();
  });
  const changes: StoreChange[] = [];
  await src.start();
  t.equal(src.offline, true, 'offline: serving the snapshot');
  t.ok(store.isSynced(...ALL_KINDS), 'every kind is marked synced from the snapshot');
  t.equal(store.count('Service'), 20);
  t.equal(store.count('EndpointSlice'), 20);
  t.equal(store.count('Node'), 3);
  t.equal(store.get('Service', 'default/svc-3')?.ports[0].port, 80, 'the snapshot has the old port');
  t.equal(src.healthy(), true);
  const details = src.details();
  t.equal(details.offline, true);
  t.match(details.snapshotTime, /^\d{4}-\d\d-\d\dT/);
  t.equal(await offlineGauge(registry), 1);
  t.ok(logs.some((l) => /serving the last known state from the snapshot/.test(l.msg ?? '') && l.snapshotTime === details.snapshotTime), 'says so in the log');

  // 3. The API server comes back on the same address.
  store.subscribe((c) => changes.push(c));
  await server.listen('127.0.0.1', port);
  await eventually(() => !src.offline);
  t.same(
    changes.map((c) => `${c.kind} ${c.key}:${c.previous ? 'had' : 'new'}:${c.current ? 'now' : 'gone'}`).sort(),
    ['Service default/svc-3:had:now', 'Service default/svc-4:had:gone', 'Service default/svc-99:new:now'],
    'only the real differences are emitted',
  );
  t.equal(store.get('Service', 'default/svc-3')?.ports[0].port, 8443);
  t.same(src.details(), {});
  t.equal(await offlineGauge(registry), 0);
  t.ok(logs.some((l) => /reachable again/.test(l.msg ?? '')));

  // 4. Back online, the snapshot follows the live state again.
  const before = (await stat(file)).mtimeMs;
  server.create(rawService('default', 100));
  await eventually(async () => (await stat(file)).mtimeMs > before);
});

t.test('no snapshot file yet: start resolves, the store stays unsynced, the API is retried', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-offline-'));
  const server = await startApiServer();
  const port = server.port;
  await server.close();
  t.teardown(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const store = new ObjectStore();
  const client = new ApiClient({ server: `http://127.0.0.1:${port}` });
  const logs: { msg?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
  const src = new ApiSource({
    client,
    store,
    kinds: ['Service'],
    log,
    snapshot: snapshotAccess(join(dir, 'absent.json'), store, log, ['Service'], 50),
    reflector: { backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }) },
  });
  t.teardown(async () => {
    await src.stop();
    await client.close();
  });
  await src.start();
  t.equal(src.healthy(), false);
  t.equal(src.offline, false);
  t.ok(logs.some((l) => /no snapshot yet/.test(l.msg ?? '')));
  server.create(rawService('default', 1));
  await server.listen('127.0.0.1', port);
  await store.whenSynced('Service');
  t.equal(store.count('Service'), 1);
  t.equal(src.healthy(), true);
});
