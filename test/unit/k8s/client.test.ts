import t from 'tap';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError, ApiUnreachableError, WatchStalledError, resourcePath } from '../../../src/k8s/client.ts';
import type { TokenSource } from '../../../src/k8s/token-source.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function server(t: { teardown(fn: () => unknown): void }, handler: Handler): Promise<string> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.closeAllConnections();
    return new Promise((r) => srv.close(r));
  });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
}

t.test('resourcePath builds core, grouped, namespaced and cluster-scoped paths', async (t) => {
  t.equal(resourcePath({ group: '', version: 'v1', resource: 'services', namespace: 'ns' }), '/api/v1/namespaces/ns/services');
  t.equal(resourcePath({ group: 'netlet.io', version: 'v1', resource: 'ipamblocks', name: '10-0-0-0-26' }), '/apis/netlet.io/v1/ipamblocks/10-0-0-0-26');
  t.equal(resourcePath({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }), '/apis/discovery.k8s.io/v1/endpointslices');
});

t.test('JSON verbs send method, body and query; parse the answer', async (t) => {
  const seen: string[] = [];
  const url = await server(t, (req, res, body) => {
    seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: req.method }));
  });
  const c = new ApiClient({ server: url });
  t.teardown(() => c.close());
  t.same(await c.get('/api/v1/nodes/a'), { ok: 'GET' });
  await c.list('/api/v1/pods', { limit: 500, continue: undefined, fieldSelector: 'spec.nodeName=n1' });
  await c.create('/apis/netlet.io/v1/ipamblocks', { metadata: { name: 'b' } });
  await c.update('/apis/netlet.io/v1/ipamblocks/b', { metadata: { name: 'b', resourceVersion: '5' } });
  await c.patch('/api/v1/nodes/a', { metadata: { labels: { x: 'y' } } });
  await c.delete('/apis/netlet.io/v1/ipamblocks/b', { resourceVersion: '6' });
  t.same(seen, [
    'GET /api/v1/nodes/a - ',
    'GET /api/v1/pods?limit=500&fieldSelector=spec.nodeName%3Dn1 - ',
    'POST /apis/netlet.io/v1/ipamblocks application/json {"metadata":{"name":"b"}}',
    'PUT /apis/netlet.io/v1/ipamblocks/b application/json {"metadata":{"name":"b","resourceVersion":"5"}}',
    'PATCH /api/v1/nodes/a application/merge-patch+json {"metadata":{"labels":{"x":"y"}}}',
    'DELETE /apis/netlet.io/v1/ipamblocks/b application/json {"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"resourceVersion":"6"}}',
  ]);
});

t.test('Status failures become ApiError with status, reason and a stable code', async (t) => {
  const url = await server(t, (req, res) => {
    const path = req.url ?? '';
    if (path.endsWith('/exists')) status(res, 409, 'AlreadyExists', 'ipamblocks "x" already exists');
    else if (path.endsWith('/conflict')) status(res, 409, 'Conflict', 'the object has been modified');
    else if (path.endsWith('/gone')) status(res, 410, 'Expired', 'too old resource version: 1 (5)');
    else if (path.endsWith('/missing')) status(res, 404, 'NotFound', 'not found');
    else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
  });
  const c = new ApiClient({ server: url });
  t.teardown(() => c.close());
  const rows: { name: string; path: string; status: number; reason: string; code: string }[] = [
    { name: 'create of a taken name', path: '/exists', status: 409, reason: 'AlreadyExists', code: 'ERR_API_ALREADY_EXISTS' },
    { name: 'stale update', path: '/conflict', status: 409, reason: 'Conflict', code: 'ERR_API_CONFLICT' },
    { name: 'too old resourceVersion', path: '/gone', status: 410, reason: 'Expired', code: 'ERR_API_GONE' },
    { name: 'not found', path: '/missing', status: 404, reason: 'NotFound', code: 'ERR_API_NOT_FOUND' },
    { name: 'non-Status body', path: '/other', status: 502, reason: '', code: 'ERR_API_STATUS' },
  ];
  for (const row of rows) {
    const err = await c.create(row.path, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof ApiError, `${row.name}: ApiError`);
    const e = err as ApiError;
    t.same([e.status, e.reason, e.code], [row.status, row.reason, row.code], row.name);
  }
  const exists = await c.create('/exists', {}).catch((e: ApiError) => e);
  t.equal((exists as ApiError).isAlreadyExists, true);
  t.match((exists as ApiError).message, /already exists/);
});

t.test('a refused connection is ApiUnreachableError', async (t) => {
  const url = await server(t, () => {});
  const port = new URL(url).port;
  const c = new ApiClient({ server: `http://127.0.0.1:${Number(port) === 1 ? 2 : 1}` });
  t.teardown(() => c.close());
  await t.rejects(c.get('/api'), { code: 'ERR_API_UNREACHABLE' });
  const err = await c.get('/api').catch((e: unknown) => e);
  t.ok(err instanceof ApiUnreachableError);
});

t.test('a 401 re-reads the token and retries once', async (t) => {
  let current = 'old';
  let invalidated = 0;
  const token: TokenSource = {
    token: async () => current,
    invalidate: () => {
      invalidated++;
      current = 'new';
    },
  };
  const auths: string[] = [];
  const url = await server(t, (req, res) => {
    auths.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== 'Bearer new') return status(res, 401, 'Unauthorized', 'Unauthorized');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const c = new ApiClient({ server: url, token });
  t.teardown(() => c.close());
  await c.get('/api');
  t.same(auths, ['Bearer old', 'Bearer new']);
  t.equal(invalidated, 1);
});

t.test('watch yields events as chunks arrive and stops at the end of the response', async (t) => {
  let sendRest!: () => void;
  const url = await server(t, (req, res) => {
    t.match(req.url, /watch=true/);
    t.match(req.url, /resourceVersion=7/);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"8"}}}\n{"type":"MOD');
    sendRest = () => {
      res.write('IFIED","object":{"metadata":{"name":"a","resourceVersion":"9"}}}\n');
      res.end('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"10"}}}\n');
    };
  });
  const c = new ApiClient({ server: url });
  t.teardown(() => c.close());
  const events: string[] = [];
  for await (const ev of c.watch('/api/v1/services', { resourceVersion: '7' })) {
    events.push(`${ev.type}:${ev.object.metadata.resourceVersion}`);
    if (events.length === 1) sendRest();
  }
  t.same(events, ['ADDED:8', 'MODIFIED:9', 'BOOKMARK:10']);
});

t.test('a watch that sends nothing for too long fails with WatchStalledError', async (t) => {
  const url = await server(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"1"}}}\n');
    // …and then silence, with the connection open.
  });
  const c = new ApiClient({ server: url });
  t.teardown(() => c.close());
  const seen: string[] = [];
  const err = await (async () => {
    for await (const ev of c.watch('/api/v1/nodes', {}, { idleTimeoutMs: 1000 })) seen.push(ev.type);
  })().catch((e: unknown) => e);
  t.same(seen, ['BOOKMARK']);
  t.ok(err instanceof WatchStalledError, String(err));
  t.equal((err as WatchStalledError).code, 'ERR_WATCH_STALLED');
});

t.test('a watch answered with 410 throws ApiError before any event', async (t) => {
  const url = await server(t, (_req, res) => status(res, 410, 'Expired', 'too old resource version'));
  const c = new ApiClient({ server: url });
  t.teardown(() => c.close());
  await t.rejects(
    (async () => {
      for await (const _ of c.watch('/api/v1/nodes', { resourceVersion: '1' })) void _;
    })(),
    { status: 410, code: 'ERR_API_GONE' },
  );
});
