import t from 'tap';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Backoff } from '../../../src/k8s/backoff.ts';
import { ApiClient } from '../../../src/k8s/client.ts';
import { Reflector } from '../../../src/k8s/reflector.ts';
import { resourceSpec } from '../../../src/k8s/resources.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { Kind } from '../../../src/k8s/objects.ts';

// Reflector behaviour the test API server cannot provoke: a resource that is
// not served (CRD not installed), a server that ends every watch at once, an
// expired continue token in the middle of a paged list.

type Handler = (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => void;

async function setup(t: { teardown(fn: () => unknown): void }, kind: Kind, handler: Handler, selectors = {}) {
  const srv = createServer((req, res) => handler(req, res, new URL(req.url ?? '/', 'http://x').searchParams));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` });
  const store = new ObjectStore();
  const refl = new Reflector({ client, store, resource: resourceSpec(kind, selectors), backoff: new Backoff({ initialMs: 50, maxMs: 400 }), pageSize: 2 });
  t.teardown(async () => {
    await refl.stop();
    await client.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });
  return { store, refl };
}

const json = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const status = (code: number, reason: string, message = reason) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
const block = (name: string, rv: string) => ({ apiVersion: 'netlet.io/v1', kind: 'IPAMBlock', metadata: { name, uid: `u-${name}`, resourceVersion: rv }, spec: { cidr: '10.244.0.0/26', node: 'n1', pool: 'default' } });
const ns = (name: string, rv: string) => ({ metadata: { name, uid: `u-${name}`, resourceVersion: rv } });

t.test('a resource the server does not serve (CRD not installed) counts as empty and synced, and is retried', async (t) => {
  let installed = false;
  const { store, refl } = await setup(t, 'IPAMBlock', (req, res, q) => {
    if (!installed) return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    if (q.get('watch') === 'true') return void res.writeHead(200, { 'content-type': 'application/json' });
    json(res, 200, { kind: 'IPAMBlockList', metadata: { resourceVersion: '5' }, items: [block('b1', '4')] });
  });
  refl.start();
  await store.whenSynced('IPAMBlock');
  t.equal(store.count('IPAMBlock'), 0);
  installed = true;
  await new Promise<void>((resolve) => store.subscribe(() => resolve()));
  t.equal(store.get('IPAMBlock', 'b1')?.cidr, '10.244.0.0/26');
});

for (const row of [
  { name: 'empty body', body: '' },
  { name: 'only a line that is no watch event', body: '{"type":"WHAT","object":{}}\n' },
]) {
  t.test(`a server that ends every watch at once (${row.name}) is not hammered: backoff between attempts`, async (t) => {
    let watches = 0;
    const { store, refl } = await setup(t, 'Namespace', (_req, res, q) => {
      if (q.get('watch') === 'true') {
        watches++;
        return res.writeHead(200, { 'content-type': 'application/json' }).end(row.body);
      }
      json(res, 200, { kind: 'NamespaceList', metadata: { resourceVersion: '3' }, items: [ns('a', '2')] });
    });
    refl.start();
    await store.whenSynced('Namespace');
    await new Promise((r) => setTimeout(r, 1500));
    // 50 → 400 ms backoff over 1.5 s allows about 6-10 attempts; a hot loop would make hundreds.
    t.ok(watches >= 3 && watches <= 15, `${watches} watch attempts in 1.5 s`);
  });
}

t.test('paged LIST: limit/continue followed; an expired continue token restarts the list', async (t) => {
  const lists: string[] = [];
  let expireOnce = true;
  const { store, refl } = await setup(
    t,
    'Pod',
    (_req, res, q) => {
      if (q.get('watch') === 'true') {
        t.equal(q.get('fieldSelector'), 'spec.nodeName=n1', 'the watch carries the field selector');
        t.equal(q.get('resourceVersion'), '10', 'the watch starts from the list RV');
        return void res.writeHead(200, { 'content-type': 'application/json' });
      }
      lists.push(`${q.get('limit')}:${q.get('continue') ?? ''}:${q.get('fieldSelector')}`);
      const pod = (n: string) => ({ metadata: { namespace: 'd', name: n, uid: n, resourceVersion: '9' }, spec: { nodeName: 'n1' }, status: { podIPs: [{ ip: '10.0.0.1' }], phase: 'Running' } });
      const cont = q.get('continue');
      if (!cont) return json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '10', continue: 'p2' }, items: [pod('a'), pod('b')] });
      if (cont === 'p2' && expireOnce) {
        expireOnce = false;
        return json(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'));
      }
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '10' }, items: [pod('c')] });
    },
    { fieldSelector: 'spec.nodeName=n1' },
  );
  refl.start();
  await store.whenSynced('Pod');
  t.same(lists, ['2::spec.nodeName=n1', '2:p2:spec.nodeName=n1', '2::spec.nodeName=n1', '2:p2:spec.nodeName=n1']);
  t.same([...store.list('Pod')].map((p) => p.meta.name).sort(), ['a', 'b', 'c']);
  t.equal(refl.resourceVersion, '10');
  await new Promise((r) => setTimeout(r, 100));
});

t.test('stop() cancels a LIST the server never answers', async (t) => {
  const { refl } = await setup(t, 'Service', () => {
    /* never answers */
  });
  refl.start();
  await new Promise((r) => setTimeout(r, 100));
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([refl.stop().then(() => 'stopped'), new Promise((r) => (timer = setTimeout(() => r('hung'), 5000)))]);
  clearTimeout(timer);
  t.equal(stopped, 'stopped', 'the hanging request was aborted (the request timeout is 60 s)');
});
