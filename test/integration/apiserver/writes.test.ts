// Writes over HTTP: create/update/patch/delete semantics and the Status
// objects of their failures, in the shapes kube-apiserver sends.
import t from 'tap';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';

async function call(api: ApiServer, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const SVC = '/api/v1/namespaces/default/services';
const svc = (name: string, extra: any = {}): any => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: { app: name } },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...extra },
});

t.test('create sets server metadata and defaults; a taken name is 409 AlreadyExists', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const created = await call(api, 'POST', SVC, svc('web'));
  t.equal(created.status, 201);
  t.match(created.body, {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name: 'web', namespace: 'default', uid: /^[0-9a-f-]{36}$/, creationTimestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, generation: 1 },
    spec: { type: 'ClusterIP', clusterIP: /^10\.96\./, sessionAffinity: 'None', ports: [{ protocol: 'TCP' }] },
  });
  t.equal(created.body.metadata.resourceVersion, String(api.resourceVersion));
  const again = await call(api, 'POST', SVC, svc('web'));
  t.equal(again.status, 409);
  t.same(again.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'services "web" already exists',
    reason: 'AlreadyExists',
    details: { name: 'web', kind: 'services' },
    code: 409,
  });
  const block = { apiVersion: 'netlet.io/v1', kind: 'IPAMBlock', metadata: { name: '10-0-0-0-26' }, spec: { cidr: '10.0.0.0/26', node: 'a', pool: 'p' } };
  t.equal((await call(api, 'POST', '/apis/netlet.io/v1/ipamblocks', block)).status, 201);
  const taken = await call(api, 'POST', '/apis/netlet.io/v1/ipamblocks', { ...block, spec: { ...block.spec, node: 'b' } });
  t.match(taken, { status: 409, body: { reason: 'AlreadyExists', message: 'ipamblocks.netlet.io "10-0-0-0-26" already exists', details: { group: 'netlet.io', kind: 'ipamblocks' } } });
});

t.test('update with a stale resourceVersion is 409 Conflict; without one it applies', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const v1 = (await call(api, 'POST', SVC, svc('web'))).body;
  const v2 = await call(api, 'PUT', `${SVC}/web`, { ...v1, spec: { ...v1.spec, ports: [{ port: 81 }] } });
  t.equal(v2.status, 200);
  t.equal(v2.body.metadata.generation, 2, 'a spec change bumps generation');
  t.equal(v2.body.spec.clusterIP, v1.spec.clusterIP, 'the ClusterIP stays');
  const stale = await call(api, 'PUT', `${SVC}/web`, { ...v1, spec: { ...v1.spec, ports: [{ port: 82 }] } });
  t.equal(stale.status, 409);
  t.same(stale.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    reason: 'Conflict',
    details: { name: 'web', kind: 'services' },
    code: 409,
  });
  const noRV = { ...v2.body, metadata: { ...v2.body.metadata, resourceVersion: undefined, labels: { x: 'y' } } };
  const forced = await call(api, 'PUT', `${SVC}/web`, noRV);
  t.equal(forced.status, 200);
  t.equal(forced.body.metadata.generation, 2, 'a metadata-only change keeps generation');
  const missing = await call(api, 'PUT', `${SVC}/nope`, svc('nope'));
  t.match(missing, { status: 404, body: { reason: 'NotFound', message: 'services "nope" not found', details: { name: 'nope', kind: 'services' } } });
  const changedIP = await call(api, 'PUT', `${SVC}/web`, { ...forced.body, spec: { ...forced.body.spec, clusterIP: '10.96.9.9', clusterIPs: ['10.96.9.9'] } });
  t.match(changedIP, { status: 422, body: { reason: 'Invalid', details: { causes: [{ field: 'spec.clusterIPs[0]' }] } } });
});

t.test('a write that changes nothing keeps the resourceVersion and sends no watch event', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const v1 = (await call(api, 'POST', SVC, svc('web'))).body;
  const rv = api.resourceVersion;
  const { openWatch } = await import('../../apiserver/watch-client.ts');
  const w = await openWatch(`${api.url}${SVC}?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  const put = await call(api, 'PUT', `${SVC}/web`, v1);
  t.equal(put.body.metadata.resourceVersion, v1.metadata.resourceVersion, 'PUT of the same object');
  const patch = await call(api, 'PATCH', `${SVC}/web`, { metadata: { labels: { app: 'web' } } }, 'application/merge-patch+json');
  t.equal(patch.body.metadata.resourceVersion, v1.metadata.resourceVersion, 'PATCH setting the same value');
  t.equal(api.resourceVersion, rv, 'the global resourceVersion did not move');
  const real = await call(api, 'PATCH', `${SVC}/web`, { metadata: { labels: { app: 'other' } } }, 'application/merge-patch+json');
  t.ok(Number(real.body.metadata.resourceVersion) > rv);
  t.same((await w.rest()).map((e) => `${e.type} ${e.object.metadata.labels.app}`), ['MODIFIED other'], 'only the real change is an event');
});

t.test('422 Invalid for bad names and bad IPAMBlock specs; 400 for a namespace mismatch', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const rows: [string, string, any, number, RegExp][] = [
    ['service name with capitals', SVC, svc('Web'), 422, /Service "Web" is invalid: metadata.name: Invalid value: "Web": a DNS-1035 label/],
    ['service name starting with a digit', SVC, svc('1web'), 422, /DNS-1035/],
    ['no name', SVC, { ...svc('x'), metadata: {} }, 422, /name or generateName is required/],
    ['IPAMBlock without cidr', '/apis/netlet.io/v1/ipamblocks', { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', metadata: { name: 'b' }, spec: {} }, 422, /IPAMBlock.netlet.io "b" is invalid: spec.cidr/],
    ['IPAMBlock bad cidr', '/apis/netlet.io/v1/ipamblocks', { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', metadata: { name: 'b' }, spec: { cidr: '10.0.0.300/26' } }, 422, /must be a CIDR/],
    ['IPAMBlock without node', '/apis/netlet.io/v1/ipamblocks', { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', metadata: { name: 'b' }, spec: { cidr: '10.0.0.0/26' } }, 422, /spec.node: Required value/],
    ['namespace mismatch', SVC, { ...svc('x'), metadata: { name: 'x', namespace: 'other' } }, 400, /does not match the namespace/],
  ];
  for (const [name, path, body, code, message] of rows) {
    const r = await call(api, 'POST', path, body);
    t.equal(r.status, code, name);
    t.match(r.body, { kind: 'Status', status: 'Failure', code, message }, name);
  }
  const noNs = await call(api, 'POST', '/api/v1/namespaces/nope/services', svc('x'));
  t.match(noNs, { status: 404, body: { reason: 'NotFound', message: 'namespaces "nope" not found', details: { name: 'nope', kind: 'namespaces' } } }, 'no objects in a missing namespace');
  const block = { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', metadata: { name: '10-0-0-0-26' }, spec: { cidr: '10.0.0.0/26', node: 'n1', pool: 'p' } };
  const made = await call(api, 'POST', '/apis/netlet.io/v1/ipamblocks', block);
  const moved = await call(api, 'PUT', '/apis/netlet.io/v1/ipamblocks/10-0-0-0-26', { ...made.body, spec: { ...block.spec, node: 'n2' } });
  t.match(moved, { status: 422, body: { reason: 'Invalid', message: /an IPAMBlock's spec is immutable/ } }, 'an IPAMBlock never changes owner');
  const labelled = await call(api, 'PATCH', '/apis/netlet.io/v1/ipamblocks/10-0-0-0-26', { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
  t.equal(labelled.status, 200, 'its metadata may change');
  const gen = await call(api, 'POST', SVC, { ...svc('x'), metadata: { generateName: 'web-' } });
  t.match(gen, { status: 201, body: { metadata: { name: /^web-[a-z0-9]{5}$/ } } }, 'generateName');
});

t.test('PATCH: merge, strategic merge (by key), JSON patch, and a resourceVersion precondition', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  await call(api, 'POST', SVC, svc('web', { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }));
  const merge = await call(api, 'PATCH', `${SVC}/web`, { metadata: { labels: { app: null, tier: 'front' } } }, 'application/merge-patch+json');
  t.same(merge.body.metadata.labels, { tier: 'front' });
  const smp = await call(
    api,
    'PATCH',
    `${SVC}/web`,
    { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }], ports: [{ port: 443, targetPort: 8443 }] } },
    'application/strategic-merge-patch+json',
  );
  t.same(smp.body.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['https', 443, 8443], ['http', 80, 80]], 'ports merged by port, in $setElementOrder order');
  const plainMerge = await call(api, 'PATCH', `${SVC}/web`, { spec: { ports: [{ port: 8080 }] } }, 'application/merge-patch+json');
  t.same(plainMerge.body.spec.ports.map((p: any) => p.port), [8080], 'merge patch replaces lists');
  const jp = await call(api, 'PATCH', `${SVC}/web`, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }, { op: 'replace', path: '/spec/ports/0/port', value: 9090 }], 'application/json-patch+json');
  t.equal(jp.status, 200);
  t.same(jp.body.metadata.annotations, { a: 'b' });
  t.equal(jp.body.spec.ports[0].port, 9090);
  const failedTest = await call(api, 'PATCH', `${SVC}/web`, [{ op: 'test', path: '/spec/type', value: 'NodePort' }], 'application/json-patch+json');
  t.equal(failedTest.status, 422);
  const stale = await call(api, 'PATCH', `${SVC}/web`, { metadata: { resourceVersion: '1', labels: { z: '1' } } }, 'application/merge-patch+json');
  t.equal(stale.status, 409, 'a resourceVersion in the patch is a precondition');
  const unsupported = await call(api, 'PATCH', `${SVC}/web`, {}, 'text/plain');
  t.equal(unsupported.status, 415);
});

t.test('status subresource: the main resource keeps status, /status changes only status', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const lb = svc('lb', { type: 'LoadBalancer' });
  const created = (await call(api, 'POST', SVC, { ...lb, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } })).body;
  t.same(created.status, undefined, 'status is dropped on create');
  t.ok(created.spec.ports[0].nodePort >= 30000, 'a NodePort is allocated');
  const st = await call(api, 'PUT', `${SVC}/lb/status`, { ...created, spec: { ...created.spec, type: 'ClusterIP' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } });
  t.equal(st.status, 200);
  t.same(st.body.status.loadBalancer.ingress, [{ ip: '1.2.3.4' }]);
  t.equal(st.body.spec.type, 'LoadBalancer', '/status ignores spec');
  const main = await call(api, 'PUT', `${SVC}/lb`, { ...st.body, status: {} });
  t.same(main.body.status.loadBalancer.ingress, [{ ip: '1.2.3.4' }], 'the main resource ignores status');
  const pod = await call(api, 'POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', podIP: '10.0.0.1' },
  });
  t.same(pod.body.status, { phase: 'Pending' }, 'a new pod is Pending whatever the client says');
  const node = await call(api, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.1.0.1' }] } });
  t.same(node.body.status.addresses, [{ type: 'InternalIP', address: '10.1.0.1' }], 'a node registers with its status');
  const sneaky = await call(api, 'PUT', `${SVC}/lb`, { ...main.body, metadata: { ...main.body.metadata, deletionTimestamp: '2020-01-01T00:00:00Z' } });
  t.equal(sneaky.body.metadata.deletionTimestamp, undefined, 'clients cannot set deletionTimestamp');
  t.equal((await call(api, 'GET', `${SVC}/lb`)).status, 200);
});

t.test('DELETE returns the object; finalizers delay it; preconditions; namespaces terminate', async (t) => {
  const api = await startApiServer({ namespaceDeletionDelayMs: 50 });
  t.teardown(() => api.close());
  const web = (await call(api, 'POST', SVC, svc('web'))).body;
  const pre = await call(api, 'DELETE', `${SVC}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'other' } });
  t.match(pre, { status: 409, body: { reason: 'Conflict', message: /Precondition failed: UID in precondition/ } });
  const del = await call(api, 'DELETE', `${SVC}/web`);
  t.equal(del.status, 200);
  t.equal(del.body.metadata.uid, web.metadata.uid);
  t.ok(Number(del.body.metadata.resourceVersion) > Number(web.metadata.resourceVersion), 'the deletion has its own resourceVersion');
  t.equal((await call(api, 'DELETE', `${SVC}/web`)).status, 404);

  const held = (await call(api, 'POST', SVC, { ...svc('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } })).body;
  const marked = await call(api, 'DELETE', `${SVC}/held`);
  t.ok(marked.body.metadata.deletionTimestamp, 'marked for deletion');
  t.equal((await call(api, 'GET', `${SVC}/held`)).status, 200, 'still there while finalizers remain');
  const released = await call(api, 'PATCH', `${SVC}/held`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
  t.equal(released.status, 200);
  t.equal((await call(api, 'GET', `${SVC}/held`)).status, 404, 'gone once the last finalizer is removed');
  t.ok(held);

  await call(api, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  await call(api, 'POST', '/api/v1/namespaces/shop/services', svc('cart'));
  const ns = await call(api, 'DELETE', '/api/v1/namespaces/shop');
  t.equal(ns.body.status.phase, 'Terminating');
  const refused = await call(api, 'POST', '/api/v1/namespaces/shop/services', svc('more'));
  t.match(refused, { status: 403, body: { reason: 'Forbidden', message: /being terminated/ } });
  await new Promise((r) => setTimeout(r, 150));
  t.equal((await call(api, 'GET', '/api/v1/namespaces/shop')).status, 404);
  t.equal((await call(api, 'GET', '/api/v1/namespaces/shop/services/cart')).status, 404, 'contents deleted with the namespace');
});

t.test('DELETE on a collection deletes what the selectors match', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  for (const [name, app] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) await call(api, 'POST', SVC, { ...svc(name), metadata: { name, labels: { app } } });
  const del = await call(api, 'DELETE', `${SVC}?labelSelector=app%3Dx`);
  t.equal(del.status, 200);
  t.match(del.body, { kind: 'ServiceList', apiVersion: 'v1' });
  t.same(del.body.items.map((s: any) => s.metadata.name), ['a', 'b']);
  t.same(api.list('services').map((s) => s.metadata.name), ['c']);
  await call(api, 'POST', '/apis/netlet.io/v1/ipamblocks', { kind: 'IPAMBlock', apiVersion: 'netlet.io/v1', metadata: { name: 'b1' }, spec: { cidr: '10.0.0.0/26', node: 'n1' } });
  const blocks = await call(api, 'DELETE', '/apis/netlet.io/v1/ipamblocks');
  t.match(blocks.body, { kind: 'IPAMBlockList', apiVersion: 'netlet.io/v1', items: [{ kind: 'IPAMBlock', metadata: { name: 'b1' } }] });
});

t.test('unknown paths and methods get Status errors', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const rows: [string, string, string, number][] = [
    ['unknown resource', 'GET', '/api/v1/widgets', 404],
    ['unknown group', 'GET', '/apis/nope.io/v1/things', 404],
    ['namespaced object without namespace', 'GET', '/api/v1/services/web', 404],
    ['POST to an object', 'POST', `${SVC}/web`, 405],
    ['bad label selector', 'GET', '/api/v1/services?labelSelector=a%20in%20b', 400],
  ];
  for (const [name, method, path, code] of rows) {
    const r = await call(api, method, path, method === 'POST' ? svc('web') : undefined);
    t.equal(r.status, code, name);
    t.match(r.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code }, name);
  }
  const bad = await fetch(api.url + SVC, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
  t.equal(bad.status, 400, 'invalid JSON body');
});
