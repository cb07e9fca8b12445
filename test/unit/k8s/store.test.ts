import t from 'tap';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';
import { endpoint, endpointSlice, pod, service } from '../../helpers/objects.ts';

function recording(store: ObjectStore): StoreChange[] {
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  return changes;
}

t.test('upsert, get, remove emit one change each', async (t) => {
  const store = new ObjectStore();
  const changes = recording(store);
  const svc = service('default', 'web');
  store.upsert(svc);
  t.equal(store.get('Service', 'default/web'), svc);
  store.upsert(svc); // same resourceVersion: nothing changed
  const updated = { ...svc, meta: { ...svc.meta, resourceVersion: svc.meta.resourceVersion + '0' } };
  store.upsert(updated);
  store.remove('Service', 'default/web');
  store.remove('Service', 'default/web');
  t.same(
    changes.map((c) => [c.key, !!c.previous, !!c.current]),
    [['default/web', false, true], ['default/web', true, true], ['default/web', true, false]],
  );
  t.equal(store.count('Service'), 0);
});

t.test('indexes follow updates and deletions', async (t) => {
  const store = new ObjectStore();
  const s1 = endpointSlice('default', 'web', 'web-abc', [endpoint('10.0.0.1')]);
  const s2 = endpointSlice('default', 'web', 'web-def', [endpoint('10.0.0.2')]);
  store.upsert(s1);
  store.upsert(s2);
  t.same(store.endpointSlicesFor('default/web').map((s) => s.meta.name).sort(), ['web-abc', 'web-def']);
  store.upsert({ ...s2, serviceName: 'other', meta: { ...s2.meta, resourceVersion: 'x' } });
  t.same(store.endpointSlicesFor('default/web').map((s) => s.meta.name), ['web-abc']);
  t.same(store.endpointSlicesFor('default/other').map((s) => s.meta.name), ['web-def']);

  const p = pod('default', 'p1', '10.1.0.5');
  store.upsert(p);
  t.equal(store.podsByIP('10.1.0.5')[0], p);
  store.remove('Pod', 'default/p1');
  t.same(store.podsByIP('10.1.0.5'), []);
});

t.test('replaceAll emits only real differences', async (t) => {
  const store = new ObjectStore();
  const a = service('ns', 'a');
  const b = service('ns', 'b');
  const c = service('ns', 'c');
  store.upsert(a);
  store.upsert(b);
  const changes = recording(store);
  const b2 = { ...b, meta: { ...b.meta, resourceVersion: 'new' } };
  store.replaceAll('Service', [a, b2, c]);
  store.replaceAll('Service', [b2, c]);
  t.same(
    changes.map((ch) => `${ch.previous ? 'had' : 'new'}:${ch.key}:${ch.current ? 'now' : 'gone'}`),
    ['had:ns/b:now', 'new:ns/c:now', 'had:ns/a:gone'],
  );
});

t.test('whenSynced waits for every kind', async (t) => {
  const store = new ObjectStore();
  let done = false;
  const p = store.whenSynced('Service', 'EndpointSlice').then(() => (done = true));
  store.markSynced('Service');
  await new Promise((r) => setImmediate(r));
  t.notOk(done);
  store.markSynced('EndpointSlice');
  await p;
  t.ok(store.isSynced('Service', 'EndpointSlice'));
});

t.test('objects without a resourceVersion (lean): the object held is no change, an equal new one is', async (t) => {
  const store = new ObjectStore();
  const changes = recording(store);
  const p = pod('default', 'a', '10.64.0.1');
  const lean = { ...p, meta: { ...p.meta, uid: '', resourceVersion: '' } };
  store.upsert(lean);
  store.upsert(lean);
  store.replaceAll('Pod', [lean]);
  store.upsert({ ...lean, podIPs: ['10.64.0.2'] });
  t.same(changes.map((c) => [c.key, !!c.previous]), [['default/a', false], ['default/a', true]]);
  t.same(store.podsByIP('10.64.0.2').map((x) => x.meta.name), ['a']);
});
