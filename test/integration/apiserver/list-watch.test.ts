// LIST and WATCH over real HTTP with fetch: paging, selectors, watch ordering,
// bookmarks, 410 on compacted history, timeoutSeconds.
import t from 'tap';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';
import { openWatch } from '../../apiserver/watch-client.ts';

const svc = (ns: string, name: string, labels: Record<string, string> = {}, extra: any = {}): any => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns, labels },
  spec: { ports: [{ port: 80 }], ...extra },
});

const pod = (ns: string, name: string, node: string, labels: Record<string, string> = {}): any => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Running', podIP: '10.244.0.9' },
});

async function getJSON(api: ApiServer, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url + path);
  return { status: res.status, body: await res.json() };
}

t.test('paging with limit/continue returns every object exactly once at one resourceVersion', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const objs = [];
  for (let i = 0; i < 1000; i++) objs.push(svc(`ns${i % 7}`, `svc-${i}`));
  api.seed(objs.map((o) => ({ ...o })));
  const seen = new Map<string, number>();
  let token = '';
  let listRV = '';
  let pages = 0;
  let lastRemaining = Infinity;
  let typed = 0;
  do {
    const { status, body } = await getJSON(api, `/api/v1/services?limit=73${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    t.equal(status, 200, `page ${pages}`);
    t.equal(body.kind, 'ServiceList');
    if (pages === 0) listRV = body.metadata.resourceVersion;
    t.equal(body.metadata.resourceVersion, listRV, `page ${pages} is at the first page’s resourceVersion`);
    for (const item of body.items) {
      const key = `${item.metadata.namespace}/${item.metadata.name}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (item.kind !== undefined) typed++;
    }
    if (body.metadata.continue) {
      t.ok(body.metadata.remainingItemCount < lastRemaining);
      lastRemaining = body.metadata.remainingItemCount;
    }
    token = body.metadata.continue ?? '';
    pages++;
    // Churn between pages: none of it may show up in this list.
    api.create(svc('ns0', `late-${pages}`));
    api.delete('services', `ns${pages % 7}`, `svc-${pages * 7 + (pages % 7)}`);
  } while (token);
  t.equal(pages, Math.ceil(1000 / 73));
  t.equal(typed, 0, 'built-in list items carry no kind, as the real server');
  t.equal(seen.size, 1000);
  t.ok([...seen.values()].every((n) => n === 1), 'no object twice');
  t.notOk([...seen.keys()].some((k) => k.includes('late-')), 'objects created after the list RV are absent');
});

t.test('namespaced list and selectors', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.seed([
    pod('a', 'p1', 'node-1', { app: 'web', tier: 'front' }),
    pod('a', 'p2', 'node-2', { app: 'web' }),
    pod('b', 'p3', 'node-1', { app: 'db' }),
    pod('b', 'p4', '', {}),
  ]);
  const rows: [string, string, string[]][] = [
    ['namespace path', '/api/v1/namespaces/a/pods', ['a/p1', 'a/p2']],
    ['fieldSelector spec.nodeName', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1', ['a/p1', 'b/p3']],
    ['fieldSelector ==', '/api/v1/pods?fieldSelector=spec.nodeName%3D%3Dnode-2', ['a/p2']],
    ['fieldSelector != and AND', '/api/v1/pods?fieldSelector=spec.nodeName!%3Dnode-1,metadata.namespace%3Db', ['b/p4']],
    ['fieldSelector empty nodeName', '/api/v1/pods?fieldSelector=spec.nodeName%3D', ['b/p4']],
    ['fieldSelector metadata.name', '/api/v1/pods?fieldSelector=metadata.name%3Dp3', ['b/p3']],
    ['label equality', '/api/v1/pods?labelSelector=app%3Dweb', ['a/p1', 'a/p2']],
    ['label ==', '/api/v1/pods?labelSelector=app%3D%3Ddb', ['b/p3']],
    ['label !=', '/api/v1/pods?labelSelector=app!%3Dweb', ['b/p3', 'b/p4']],
    ['label in', '/api/v1/pods?labelSelector=app%20in%20(db,web),tier', ['a/p1']],
    ['label notin', '/api/v1/pods?labelSelector=app%20notin%20(web)', ['b/p3', 'b/p4']],
    ['label exists', '/api/v1/pods?labelSelector=tier', ['a/p1']],
    ['label !exists', '/api/v1/pods?labelSelector=!app', ['b/p4']],
    ['label + namespace', '/api/v1/namespaces/a/pods?labelSelector=!tier', ['a/p2']],
  ];
  for (const [name, path, want] of rows) {
    const { status, body } = await getJSON(api, path);
    t.equal(status, 200, name);
    t.same(body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`), want, name);
  }
  const bad = await getJSON(api, '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
  t.equal(bad.status, 400, 'unsupported field label');
  t.match(bad.body, { kind: 'Status', reason: 'BadRequest', message: /field label not supported: spec.bogus/ });
});

t.test('watch from a resourceVersion gets later events in order, filtered', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create(svc('default', 'before'));
  const rv = api.resourceVersion;
  const a = api.create(svc('default', 'a', { app: 'x' }));
  api.create(svc('other', 'b', { app: 'x' }));
  api.update({ ...a, metadata: { ...a.metadata, labels: { app: 'y' } } });
  api.delete('services', 'default', 'a');
  const all = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  const ns = await openWatch(`${api.url}/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
  const sel = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${rv}&labelSelector=app%3Dx&timeoutSeconds=1`);
  const summary = (evs: any[]): string[] => evs.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`);
  const allEvents = await all.rest();
  t.same(summary(allEvents), ['ADDED default/a', 'ADDED other/b', 'MODIFIED default/a', 'DELETED default/a']);
  const rvs = allEvents.map((e) => Number(e.object.metadata.resourceVersion));
  t.same(rvs, [...rvs].sort((x, y) => x - y), 'resourceVersions increase');
  t.ok(rvs[0] > rv);
  t.same(summary(await ns.rest()), ['ADDED default/a', 'MODIFIED default/a', 'DELETED default/a']);
  t.same(summary(await sel.rest()), ['ADDED default/a', 'ADDED other/b', 'DELETED default/a'], 'leaving the selector is a DELETED');
  t.equal(all.ended, 'end', 'timeoutSeconds ends the stream cleanly');
});

t.test('watch without resourceVersion starts with the current state as ADDED', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.seed([svc('default', 'one'), svc('default', 'two')]);
  const w = await openWatch(`${api.url}/api/v1/services?watch=1`);
  t.teardown(() => w.close());
  t.equal(w.status, 200);
  t.match(await w.next(), { type: 'ADDED', object: { kind: 'Service', apiVersion: 'v1', metadata: { name: 'one' } } });
  t.match(await w.next(), { type: 'ADDED', object: { metadata: { name: 'two' } } });
  api.create(svc('default', 'three'));
  t.match(await w.next(), { type: 'ADDED', object: { metadata: { name: 'three' } } });
});

t.test('sendInitialEvents ends the initial burst with an annotated bookmark', async (t) => {
  const api = await startApiServer({ bookmarkIntervalMs: 0 });
  t.teardown(() => api.close());
  api.create(svc('default', 'one'));
  const w = await openWatch(
    `${api.url}/api/v1/services?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
  );
  t.teardown(() => w.close());
  t.match(await w.next(), { type: 'ADDED', object: { metadata: { name: 'one' } } });
  t.match(await w.next(), {
    type: 'BOOKMARK',
    object: { metadata: { resourceVersion: String(api.resourceVersion), annotations: { 'k8s.io/initial-events-end': 'true' } } },
  });
});

t.test('bookmarks carry only metadata.resourceVersion and only when asked for', async (t) => {
  const api = await startApiServer({ bookmarkIntervalMs: 100 });
  t.teardown(() => api.close());
  const rv = api.resourceVersion;
  const w = await openWatch(`${api.url}/api/v1/nodes?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
  const plain = await openWatch(`${api.url}/api/v1/nodes?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  const events = await w.rest();
  const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
  t.ok(bookmarks.length >= 3, `several bookmarks in 1 s (got ${bookmarks.length})`);
  t.same(bookmarks.at(-1)!.object, { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(api.resourceVersion) } });
  t.same((await plain.rest()).map((e) => e.type), ['ADDED']);
});

t.test('410: watch from a compacted resourceVersion, continue token after compaction, evicted history', async (t) => {
  const api = await startApiServer({ historySize: 5 });
  t.teardown(() => api.close());
  for (let i = 0; i < 10; i++) api.create(svc('default', `s${i}`));
  const first = await getJSON(api, '/api/v1/services?limit=4');
  const old = api.resourceVersion - 8;
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${old}`);
  t.equal(w.status, 200, 'the watch itself is accepted');
  const ev = await w.next();
  t.match(ev, { type: 'ERROR', object: { kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', message: /too old resource version/ } });
  t.equal(await w.next(), undefined, 'the stream ends after the error');
  const recent = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion - 2}&timeoutSeconds=1`);
  t.same((await recent.rest()).map((e) => e.object.metadata.name), ['s8', 's9'], 'within the window it works');
  api.create(svc('default', 'later'));
  api.compact();
  const page2 = await getJSON(api, `/api/v1/services?limit=4&continue=${encodeURIComponent(first.body.metadata.continue)}`);
  t.equal(page2.status, 410);
  t.match(page2.body, { kind: 'Status', code: 410, reason: 'Expired', message: /continue parameter is too old/ });
  const w2 = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion - 1}`);
  t.match(await w2.next(), { type: 'ERROR', object: { code: 410 } }, 'compaction makes every older RV too old');
});

t.test('list with resourceVersionMatch=Exact reads the past', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create(svc('default', 'a'));
  const rv = api.resourceVersion;
  api.create(svc('default', 'b'));
  api.delete('services', 'default', 'a');
  const { body } = await getJSON(api, `/api/v1/services?resourceVersion=${rv}&resourceVersionMatch=Exact`);
  t.same(body.items.map((s: any) => s.metadata.name), ['a']);
  t.equal(body.metadata.resourceVersion, String(rv));
  const now = await getJSON(api, '/api/v1/services');
  t.same(now.body.items.map((s: any) => s.metadata.name), ['b']);
});

t.test('custom resources: list items carry kind/apiVersion, cluster-scoped paths', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create({ apiVersion: 'netlet.io/v1', kind: 'IPAMBlock', metadata: { name: '10-244-0-0-26' }, spec: { cidr: '10.244.0.0/26', node: 'n1', pool: 'default' } });
  const { body } = await getJSON(api, '/apis/netlet.io/v1/ipamblocks');
  t.equal(body.kind, 'IPAMBlockList');
  t.match(body.items[0], { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', spec: { cidr: '10.244.0.0/26' } });
  const one = await getJSON(api, '/apis/netlet.io/v1/ipamblocks/10-244-0-0-26');
  t.equal(one.body.metadata.name, '10-244-0-0-26');
  const wrong = await getJSON(api, '/apis/netlet.io/v1/namespaces/default/ipamblocks');
  t.equal(wrong.status, 404, 'a cluster-scoped resource has no namespaced path');
});

t.test('large lists are gzipped for clients that accept it, never watches', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const objs = [];
  for (let i = 0; i < 1500; i++) objs.push(svc('default', `s-${i}`, { app: `a-${i}` }));
  api.seed(objs);
  const { request } = await import('undici');
  const zipped = await request(`${api.url}/api/v1/services`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(zipped.headers['content-encoding'], 'gzip');
  const { gunzipSync } = await import('node:zlib');
  const body = JSON.parse(gunzipSync(Buffer.from(await zipped.body.arrayBuffer())).toString());
  t.equal(body.items.length, 1500);
  const plain = await request(`${api.url}/api/v1/services`);
  t.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding, no gzip');
  t.equal(((await plain.body.json()) as any).items.length, 1500);
  const small = await request(`${api.url}/api/v1/services?limit=10`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(small.headers['content-encoding'], undefined, 'below 128 KiB it is sent as is');
  await small.body.dump();
  const w = await request(`${api.url}/api/v1/services?watch=1&timeoutSeconds=1`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(w.headers['content-encoding'], undefined, 'watches are not compressed');
  t.equal((await w.body.text()).split('\n').filter(Boolean).length, 1500);
});

t.test('LIST at a resourceVersion the server has not reached waits, then 504 Too large resource version', async (t) => {
  const api = await startApiServer({ tooLargeResourceVersionWaitMs: 300 });
  t.teardown(() => api.close());
  const ahead = api.resourceVersion + 5;
  const t0 = Date.now();
  const { status, body } = await getJSON(api, `/api/v1/services?resourceVersion=${ahead}`);
  t.equal(status, 504);
  t.ok(Date.now() - t0 >= 250, 'it waited first');
  t.match(body, {
    kind: 'Status',
    code: 504,
    reason: 'Timeout',
    message: `Timeout: Too large resource version: ${ahead}, current: ${api.resourceVersion}`,
    details: { causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 },
  });
  const exact = await getJSON(api, `/api/v1/services?resourceVersion=${ahead}&resourceVersionMatch=Exact`);
  t.equal(exact.status, 504, 'Exact does not wait');
  const soon = api.resourceVersion + 1;
  const pending = getJSON(api, `/api/v1/services?resourceVersion=${soon}&resourceVersionMatch=NotOlderThan`);
  setTimeout(() => api.create(svc('default', 'arrives')), 50);
  const served = await pending;
  t.equal(served.status, 200, 'served once the server catches up');
  t.same(served.body.items.map((s: any) => s.metadata.name), ['arrives']);
});

t.test('a watch on an object path, and the old /watch/ prefix, see only that object', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const rv = api.resourceVersion;
  api.create(svc('default', 'web'));
  api.create(svc('default', 'db'));
  const byPath = await openWatch(`${api.url}/api/v1/namespaces/default/services/web?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  const legacy = await openWatch(`${api.url}/api/v1/watch/namespaces/default/services/db?resourceVersion=${rv}&timeoutSeconds=1`);
  const byField = await openWatch(`${api.url}/api/v1/services?watch=1&fieldSelector=metadata.name%3Dweb&resourceVersion=${rv}&timeoutSeconds=1`);
  t.same((await byPath.rest()).map((e) => e.object.metadata.name), ['web']);
  t.same((await legacy.rest()).map((e) => e.object.metadata.name), ['db']);
  t.same((await byField.rest()).map((e) => e.object.metadata.name), ['web']);
});

t.test('firstResourceVersion starts the counter elsewhere', async (t) => {
  const api = await startApiServer({ firstResourceVersion: 1_000_000 });
  t.teardown(() => api.close());
  t.equal(api.get('namespaces', '', 'default').metadata.resourceVersion, '1000000', 'the first write');
  const { body } = await getJSON(api, '/api/v1/namespaces');
  t.equal(body.metadata.resourceVersion, '1000003');
  const w = await openWatch(`${api.url}/api/v1/namespaces?watch=1&resourceVersion=500`);
  t.match(await w.next(), { type: 'ERROR', object: { code: 410 } }, 'a resourceVersion from before the first write is too old');
});

t.test('LIST + WATCH reproduce the server state for every selector under random churn', async (t) => {
  const api = await startApiServer({ bookmarkIntervalMs: 0 });
  t.teardown(() => api.close());
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n1' } });
  const names: string[] = [];
  for (let i = 0; i < 40; i++) {
    const ns = i % 2 ? 'n1' : 'default';
    api.create(svc(ns, `s${i}`, { grp: rand(2) ? 'a' : 'b' }));
    names.push(`${ns}/s${i}`);
  }
  const views: [string, string][] = [
    ['all', '/api/v1/services'],
    ['grp=a', '/api/v1/services?labelSelector=grp%3Da'],
    ['grp!=a', '/api/v1/services?labelSelector=grp!%3Da'],
    ['namespace n1', '/api/v1/namespaces/n1/services'],
    ['n1 and grp=b', '/api/v1/namespaces/n1/services?labelSelector=grp%3Db'],
    ['field name', '/api/v1/services?fieldSelector=metadata.name!%3Ds3'],
  ];
  const key = (o: any): string => `${o.metadata.namespace}/${o.metadata.name}`;
  const starts = [];
  for (const [, path] of views) {
    const list = (await getJSON(api, path)).body;
    const state = new Map<string, string>(list.items.map((o: any) => [key(o), o.metadata.resourceVersion]));
    const sep = path.includes('?') ? '&' : '?';
    starts.push({ state, watch: await openWatch(`${api.url}${path}${sep}watch=1&resourceVersion=${list.metadata.resourceVersion}`) });
  }
  for (let op = 0; op < 400; op++) {
    const k = names[rand(names.length)];
    const [ns, name] = k.split('/');
    const cur = api.get('services', ns, name);
    const r = rand(10);
    if (!cur) api.create(svc(ns, name, { grp: rand(2) ? 'a' : 'b' }));
    else if (r < 2) api.delete('services', ns, name);
    else if (r < 6) api.update({ ...cur, metadata: { ...cur.metadata, labels: { grp: cur.metadata.labels.grp === 'a' ? 'b' : 'a' } } });
    else api.update({ ...cur, spec: { ...cur.spec, ports: [{ port: 1000 + op }] } });
  }
  api.dropWatches({ graceful: true });
  for (let v = 0; v < views.length; v++) {
    const { state, watch } = starts[v];
    for (const ev of await watch.rest()) {
      if (ev.type === 'DELETED') state.delete(key(ev.object));
      else state.set(key(ev.object), ev.object.metadata.resourceVersion);
    }
    const truth = (await getJSON(api, views[v][1])).body.items.map((o: any) => [key(o), o.metadata.resourceVersion]);
    t.same([...state].sort(), truth.sort(), `${views[v][0]}: list + watch events == the server's list`);
  }
});
