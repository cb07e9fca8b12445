// Each fault, programmatic and over /_test/, as a client sees it on the wire.
import t from 'tap';
import { startApiServer } from '../../apiserver/server.ts';
import { openWatch } from '../../apiserver/watch-client.ts';

const svc = (name: string): any => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
const post = (url: string, body: unknown = {}): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

t.test('failNext: N matching requests get the Status code, then normal service', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.failNext(2, { verb: 'list', resource: 'services' });
  api.failNext(1, { path: '/nodes', code: 429 });
  const first = await fetch(`${api.url}/api/v1/services`);
  t.equal(first.status, 500);
  t.match(await first.json(), { kind: 'Status', reason: 'InternalError', code: 500, message: /Internal error occurred/ });
  t.equal((await fetch(`${api.url}/api/v1/namespaces`)).status, 200, 'other resources unaffected');
  t.equal((await fetch(`${api.url}/api/v1/services`)).status, 500);
  t.equal((await fetch(`${api.url}/api/v1/services`)).status, 200, 'after N failures it serves again');
  const throttled = await fetch(`${api.url}/api/v1/nodes`);
  t.equal(throttled.status, 429);
  t.equal(throttled.headers.get('retry-after'), '1');
  t.match(await throttled.json(), { reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
  // Over HTTP, for agents in other processes.
  t.equal((await post(`${api.url}/_test/faults`, { fail: { count: 1, code: 503, verb: 'watch' } })).status, 200);
  const w = await fetch(`${api.url}/api/v1/services?watch=1`);
  t.equal(w.status, 503);
  t.equal((await fetch(`${api.url}/_test/faults`, { method: 'DELETE' })).status, 200);
});

t.test('stall: requests get no answer until the window ends; open watches pause', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}`);
  t.teardown(() => w.close());
  api.stall(400, { resource: 'services' });
  const started = Date.now();
  const listing = fetch(`${api.url}/api/v1/services`).then((r) => ({ status: r.status, at: Date.now() - started }));
  const other = await fetch(`${api.url}/api/v1/nodes`);
  t.equal(other.status, 200, 'a request outside the match is served at once');
  t.ok(Date.now() - started < 300);
  api.create(svc('during'));
  await t.rejects(w.next(200), /no event/, 'the watch holds its events during the stall');
  const listed = await listing;
  t.equal(listed.status, 200);
  t.ok(listed.at >= 350, `the list was answered after the stall (${listed.at} ms)`);
  t.match(await w.next(1000), { type: 'ADDED', object: { metadata: { name: 'during' } } }, 'then the event arrives');
  await post(`${api.url}/_test/faults`, { stall: { ms: 300, path: '/api/v1/nodes' } });
  const t0 = Date.now();
  t.equal((await fetch(`${api.url}/api/v1/nodes`)).status, 200);
  t.ok(Date.now() - t0 >= 250, 'stall over HTTP control');
});

t.test('slowWatches delays every event and keeps their order', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}`);
  t.teardown(() => w.close());
  api.slowWatches(200);
  const t0 = Date.now();
  for (const n of ['a', 'b', 'c']) api.create(svc(n));
  const names = [];
  for (let i = 0; i < 3; i++) names.push((await w.next(2000))!.object.metadata.name);
  t.same(names, ['a', 'b', 'c']);
  t.ok(Date.now() - t0 >= 180, `delayed (${Date.now() - t0} ms)`);
  api.slowWatches(0);
});

t.test('dropWatches cuts connections; graceful ends them cleanly; counters show the re-watch', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const cut = await openWatch(`${api.url}/api/v1/services?watch=1`);
  const nodes = await openWatch(`${api.url}/api/v1/nodes?watch=1`);
  t.equal(api.watches.size, 2);
  t.equal(api.dropWatches({ resource: 'services' }), 1);
  t.equal(await cut.next(), undefined);
  t.equal(cut.ended, 'error', 'the client sees a broken stream, not a clean end');
  t.equal(api.watches.size, 1);
  const res = await post(`${api.url}/_test/drop-watches`, { graceful: true });
  t.same(await res.json(), { dropped: 1 });
  t.equal(await nodes.next(), undefined);
  t.equal(nodes.ended, 'end');
  t.equal(api.requestCount('watch', 'services'), 1);
  t.equal(api.requestCount('list', 'services'), 0, 'no relist happened');
  const stats = await (await fetch(`${api.url}/_test/stats`)).json();
  t.match(stats, { requests: { 'watch services': 1, 'watch nodes': 1 }, openWatches: 0, resourceVersion: String(api.resourceVersion) });
  const log: any = await (await fetch(`${api.url}/_test/requests`)).json();
  t.match(log.requests[0], { verb: 'watch', resource: 'services', method: 'GET', url: '/api/v1/services?watch=1', code: 200 });
});

t.test('expireWatches sends ERROR 410 in-stream; compact over HTTP makes the resume 410 too', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create(svc('a'));
  const rv = api.resourceVersion;
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${rv}`);
  api.create(svc('b'));
  t.match(await w.next(), { type: 'ADDED' });
  const res = await post(`${api.url}/_test/expire-watches`);
  t.same(await res.json(), { expired: 1 });
  t.match(await w.next(), { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  t.equal(await w.next(), undefined);
  api.create(svc('while-away'));
  const c: any = await (await post(`${api.url}/_test/compact`)).json();
  t.equal(c.compactedTo, String(api.resourceVersion));
  const resumed = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${rv + 1}`);
  t.match(await resumed.next(), { type: 'ERROR', object: { code: 410 } }, 'resuming from the last seen RV now needs a relist');
  const fresh = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}&timeoutSeconds=1`);
  api.create(svc('c'));
  t.same((await fresh.rest()).map((e) => e.type), ['ADDED'], 'a watch from the compaction point works');
});

t.test('errorWatches ends watches with an arbitrary error Status; /_test/seed and reset-stats', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}`);
  t.equal(api.errorWatches(500, 'etcd went away'), 1);
  t.match(await w.next(), { type: 'ERROR', object: { code: 500, message: 'etcd went away' } });
  const seeded = await post(`${api.url}/_test/seed`, { objects: [svc('x'), svc('y')] });
  t.equal(seeded.status, 200);
  t.equal(api.count('services'), 2);
  await post(`${api.url}/_test/reset-stats`);
  t.same(api.statsSnapshot().requests, {});
  t.equal((await fetch(`${api.url}/_test/nope`)).status, 404);
});

t.test('reset cuts the connection without an answer; truncate cuts the body halfway', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  for (let i = 0; i < 50; i++) api.create(svc(`s${i}`));
  api.failNext(1, { verb: 'list', reset: true });
  await t.rejects(fetch(`${api.url}/api/v1/services`).then((r) => r.text()), 'reset: the request fails');
  api.failNext(1, { verb: 'get', truncate: true });
  const res = await fetch(`${api.url}/api/v1/namespaces/default/services/s1`);
  t.equal(res.status, 200, 'headers arrive');
  await t.rejects(res.text(), 'but the body ends early');
  api.failNext(1, { verb: 'list', truncate: true });
  await t.rejects(fetch(`${api.url}/api/v1/services`).then((r) => r.json()));
  const ok: any = await (await fetch(`${api.url}/api/v1/services`)).json();
  t.equal(ok.items.length, 50, 'then normal service');
  await post(`${api.url}/_test/faults`, { fail: { count: 1, reset: true } });
  await t.rejects(fetch(`${api.url}/api/v1/nodes`), 'reset over the HTTP control');
});

t.test('the 410 reason can be the older "Gone"', async (t) => {
  const api = await startApiServer({ expiredReason: 'Gone' });
  t.teardown(() => api.close());
  api.create(svc('a'));
  api.create(svc('b'));
  api.compact();
  const w = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=1`);
  t.match(await w.next(), { type: 'ERROR', object: { code: 410, reason: 'Gone' } });
  api.options.expiredReason = 'Expired';
  const w2 = await openWatch(`${api.url}/api/v1/services?watch=1&resourceVersion=1`);
  t.match(await w2.next(), { type: 'ERROR', object: { code: 410, reason: 'Expired' } }, 'switchable at run time');
});

t.test('outage: connections cut, port refused, then the same server is back on the same port', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create(svc('kept'));
  const url = api.url;
  const w = await openWatch(`${url}/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}`);
  const back = api.outage(300);
  t.equal(await w.next(), undefined);
  t.equal(w.ended, 'error', 'the open watch breaks');
  await new Promise((r) => setTimeout(r, 50));
  await t.rejects(fetch(`${url}/api/v1/services`), 'connections are refused during the outage');
  await back;
  t.equal(api.url, url, 'same URL');
  const list: any = await (await fetch(`${url}/api/v1/services`)).json();
  t.same(list.items.map((s: any) => s.metadata.name), ['kept'], 'same state');
  t.same(await (await post(`${url}/_test/outage`, { ms: 300 })).json(), { ok: true });
  await new Promise((r) => setTimeout(r, 100));
  await t.rejects(fetch(`${url}/api/v1/services`), 'outage over the HTTP control');
  await new Promise((r) => setTimeout(r, 400));
  t.equal((await fetch(`${url}/api/v1/services`)).status, 200);
});

t.test('token rotation: setTokens changes the accepted tokens; the log shows which one a client sent', async (t) => {
  const api = await startApiServer({ token: 'old' });
  t.teardown(() => api.close());
  const get = (token: string): Promise<number> =>
    fetch(`${api.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}`, 'user-agent': 'netlet-test/1' } }).then((r) => r.status);
  t.equal(await get('old'), 200);
  t.equal(await get('new'), 401);
  api.setTokens('old', 'new');
  t.same([await get('old'), await get('new')], [200, 200], 'both during the overlap');
  t.same(await (await post(`${api.url}/_test/tokens`, { tokens: ['new'] })).json(), { ok: true });
  t.same([await get('old'), await get('new')], [401, 200], 'then only the new one');
  t.same(api.tokens, ['new']);
  t.match(api.stats.log().at(-1), { bearer: 'new', userAgent: 'netlet-test/1', code: 200, clientCert: false });
  t.match(api.stats.log().at(-2), { bearer: 'old', code: 401 });
});
