import t from 'tap';
import { ResourceTable, Storage, Stored } from '../../apiserver/storage.ts';
import type { ChangeEvent } from '../../apiserver/storage.ts';
import { builtinResources } from '../../apiserver/resources.ts';

const services = builtinResources().find((r) => r.plural === 'services')!;
const blocks = builtinResources().find((r) => r.plural === 'ipamblocks')!;

function writer(limit: number) {
  const storage = new Storage(limit);
  const table = storage.table(services);
  const put = (key: string, n: number): ChangeEvent => {
    const [ns, name] = key.split('/');
    const prev = table.objects.get(key);
    const rv = storage.nextRV();
    const ev: ChangeEvent = { type: prev ? 'MODIFIED' : 'ADDED', rv, cur: new Stored(services, key, { metadata: { namespace: ns, name }, spec: { n } }, rv), prev };
    table.apply(ev);
    return ev;
  };
  const del = (key: string): void => {
    const prev = table.objects.get(key)!;
    const rv = storage.nextRV();
    table.apply({ type: 'DELETED', rv, cur: new Stored(services, key, prev.copy(), rv), prev });
  };
  return { storage, table, put, del };
}

t.test('Stored caches both JSON forms; list bodies omit kind for built-ins', async (t) => {
  const s = new Stored(services, 'a/b', { kind: 'Service', apiVersion: 'v1', metadata: { name: 'b', namespace: 'a' } }, 7);
  t.equal(s.body, '{"metadata":{"name":"b","namespace":"a","resourceVersion":"7"}}');
  t.equal(s.json, '{"kind":"Service","apiVersion":"v1","metadata":{"name":"b","namespace":"a","resourceVersion":"7"}}');
  t.same(s.copy(), JSON.parse(s.json));
  const b = new Stored(blocks, 'x', { metadata: { name: 'x' } }, 8);
  t.match(b.json, /^\{"kind":"IPAMBlock","apiVersion":"netlet.io\/v1",/, 'kind/apiVersion are filled in');
});

t.test('keys sort in etcd order (bytewise, namespace then name)', async (t) => {
  const { table, put } = writer(100);
  for (const k of ['b/x', 'a-b/y', 'a/z', 'a/a']) put(k, 1);
  t.same(table.sortedKeys(), ['a-b/y', 'a/a', 'a/z', 'b/x']);
});

t.test('history: eventsSince, eviction floor, compaction', async (t) => {
  const { table, put, storage } = writer(3);
  const evs = [put('a/1', 1), put('a/2', 1), put('a/1', 2), put('a/3', 1), put('a/1', 3)];
  t.same(table.eventsSince(evs[2].rv)!.map((e) => e.rv), [evs[3].rv, evs[4].rv]);
  t.same(table.eventsSince(evs[1].rv)!.length, 3, 'the window of 3 events is kept');
  t.equal(table.eventsSince(evs[0].rv), undefined, 'older than the window');
  t.equal(table.floorRV, evs[1].rv);
  storage.compact(evs[4].rv);
  t.equal(table.eventsSince(evs[3].rv), undefined, 'compaction makes earlier RVs too old');
  t.same(table.eventsSince(evs[4].rv), [], 'the compaction point itself is still valid');
});

t.test('snapshotAt rebuilds the past from history', async (t) => {
  const { table, put, del } = writer(100);
  put('a/1', 1);
  const at = put('a/2', 1).rv;
  put('a/1', 2);
  put('a/3', 1);
  del('a/2');
  const snap = table.snapshotAt(at)!;
  t.same(snap.keys, ['a/1', 'a/2']);
  t.equal(snap.objects.get('a/1')!.obj.spec.n, 1, 'the version as it was');
  t.equal(table.snapshotAt(at), snap, 'cached for the next page');
  t.same(table.snapshotAt(table.lastChangeRV)!.keys, ['a/1', 'a/3'], 'now');
  t.same(table.objects.size, 2, 'the live table is untouched');
});

t.test('listeners see every applied event', async (t) => {
  const { table, put } = writer(10);
  const seen: string[] = [];
  table.listeners.add((ev) => seen.push(`${ev.type} ${ev.cur.key}`));
  put('a/1', 1);
  put('a/1', 2);
  t.same(seen, ['ADDED a/1', 'MODIFIED a/1']);
  t.ok(table instanceof ResourceTable);
});
