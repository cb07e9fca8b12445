import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ApiClient } from '../../../src/k8s/client.ts';
import { ApiMetrics } from '../../../src/k8s/api-metrics.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { eventually } from '../../helpers/netns.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { fastReflector, rawSlice } from './reflector-fixtures.ts';

// "Never poison the store": an object the converters reject is logged with
// the reason and skipped; a previous good version stays; nothing is removed.

t.test('malformed objects from the API are rejected with a clear log and the store stays intact', async (t) => {
  const server = await startApiServer();
  const client = new ApiClient({ server: server.url });
  const store = new ObjectStore();
  const registry = new Registry();
  const metrics = new ApiMetrics(registry, store);
  const logs: { msg: string; err?: string; object?: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const refl = fastReflector(client, store, 'EndpointSlice', { log, metrics });
  t.teardown(async () => {
    await refl.stop();
    await client.close();
    await server.close();
  });
  const invalidCount = async () =>
    Number((await registry.getSingleMetric('netlet_api_invalid_objects_total')?.get())?.values.find((v) => v.labels.resource === 'endpointslices')?.value ?? 0);

  const bad = rawSlice('default', 1) as { endpoints: { addresses: string[] }[] };
  bad.endpoints[0].addresses = ['not-an-ip'];
  server.create(bad);
  server.create(rawSlice('default', 2));
  refl.start();
  await store.whenSynced('EndpointSlice');

  t.equal(store.count('EndpointSlice'), 1, 'the valid slice is in; the invalid one is not');
  t.ok(store.get('EndpointSlice', 'default/svc-2-abcde'));
  const listed = logs.find((l) => l.object === 'default/svc-1-abcde');
  t.ok(listed, 'the invalid object is named in the log');
  t.match(listed?.err, /EndpointSlice default\/svc-1-abcde: endpoints\[0\]\.addresses\[0\]: invalid IP address "not-an-ip"/);
  t.equal(await invalidCount(), 1);

  // A good object turning bad in the watch: the last good version stays.
  const good = store.get('EndpointSlice', 'default/svc-2-abcde');
  const cur = server.get('endpointslices', 'default', 'svc-2-abcde');
  cur.endpoints[1].addresses = ['10.0.0.999'];
  server.update(cur);
  await eventually(async () => (await invalidCount()) === 2);
  t.equal(store.get('EndpointSlice', 'default/svc-2-abcde'), good, 'kept the last good version on an invalid update');
  t.match(logs.at(-1)?.err, /endpoints\[1\]\.addresses\[0\]: invalid IP address "10\.0\.0\.999"/);

  // …also across a relist (410): the invalid version does not remove it.
  const changes: string[] = [];
  store.subscribe((c) => changes.push(c.key));
  server.expireWatches({ resource: 'endpointslices' });
  await eventually(() => server.requestCount('list', 'endpointslices') === 2);
  await eventually(async () => (await invalidCount()) === 4);
  t.equal(store.get('EndpointSlice', 'default/svc-2-abcde'), good, 'relist kept the last good version');
  t.same(changes, [], 'the relist changed nothing');

  // Fixed upstream: the new good version replaces the old one.
  const fixed = server.get('endpointslices', 'default', 'svc-2-abcde');
  fixed.endpoints[1].addresses = ['10.0.0.99'];
  server.update(fixed);
  await eventually(() => store.get('EndpointSlice', 'default/svc-2-abcde')?.endpoints[1].addresses[0] === '10.0.0.99');

  // Deleting an object that is invalid still removes what was known of it.
  server.delete('endpointslices', 'default', 'svc-1-abcde');
  server.delete('endpointslices', 'default', 'svc-2-abcde');
  await eventually(() => store.count('EndpointSlice') === 0);
});
