// Fidelity check with a client nobody here wrote: the machine's kubectl
// against the test API server (get -o json, get --watch, apply, delete).
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { eventually } from '../../helpers/netns.ts';

const KUBECTL = '/usr/bin/kubectl';

interface Kubectl {
  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  args: string[];
}

async function kubectlFor(t: { teardown(fn: () => unknown): void }, api: ApiServer): Promise<Kubectl> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-api-kubectl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  // Own kubeconfig and discovery cache: never the user's ~/.kube.
  const args = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')];
  return {
    args,
    run: (more) =>
      new Promise((resolve) => {
        execFile(KUBECTL, [...args, ...more], { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
          resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
        });
      }),
  };
}

const svc = (ns: string, name: string, port: number): any => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: { selector: { app: name }, ports: [{ name: 'http', port }] },
});

t.test('kubectl get services -A -o json and endpointslices -A -o json', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  api.seed([svc('default', 'web', 80), svc('shop', 'cart', 8080), svc('kube-system', 'kube-dns', 53)]);
  // Enough objects for pages above 128 KiB, which the server gzips for kubectl.
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } });
  api.seed(Array.from({ length: 1200 }, (_, i) => svc('bulk', `b-${i}`, 1000 + i)));
  api.create({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-x1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
  });
  const k = await kubectlFor(t, api);
  const out = await k.run(['get', 'services', '-A', '-o', 'json']);
  t.equal(out.code, 0, out.stderr);
  const list = JSON.parse(out.stdout);
  t.equal(list.items.length, 1203);
  t.ok(api.stats.log().some((r) => r.url.includes('continue=')), 'kubectl paged (limit=500)');
  list.items = list.items.filter((s: any) => s.metadata.namespace !== 'bulk');
  t.same(
    list.items.map((s: any) => `${s.kind} ${s.metadata.namespace}/${s.metadata.name} ${s.spec.ports[0].port}`),
    ['Service default/web 80', 'Service kube-system/kube-dns 53', 'Service shop/cart 8080'],
  );
  t.ok(list.items.every((s: any) => /^10\.96\./.test(s.spec.clusterIP) && Number(s.metadata.resourceVersion) > 0));
  const eps = await k.run(['get', 'endpointslices', '-A', '-o', 'json']);
  t.equal(eps.code, 0, eps.stderr);
  t.match(JSON.parse(eps.stdout).items, [
    { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { name: 'web-x1' }, endpoints: [{ addresses: ['10.244.1.5'] }] },
  ]);
  const table = await k.run(['get', 'svc', '-n', 'shop']);
  t.match(table.stdout, /NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\ncart\s+ClusterIP\s+10\.96\.\S+\s+<none>\s+8080\/TCP/);
});

t.test('kubectl paging, selectors and error messages', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  for (let i = 0; i < 7; i++) {
    api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'default', labels: { app: i % 2 ? 'odd' : 'even' } },
      spec: { nodeName: `node-${i % 3}`, containers: [{ name: 'c', image: 'x' }] },
    });
  }
  const k = await kubectlFor(t, api);
  const paged = await k.run(['get', 'pods', '--chunk-size=2', '-o', 'name']);
  t.equal(paged.stdout.trim().split('\n').length, 7, paged.stderr);
  t.ok(api.stats.log().filter((r) => r.url.includes('continue=')).length >= 3, 'kubectl followed continue tokens');
  const field = await k.run(['get', 'pods', '--field-selector', 'spec.nodeName=node-1', '-o', 'name']);
  t.same(field.stdout.trim().split('\n'), ['pod/p1', 'pod/p4']);
  const label = await k.run(['get', 'pods', '-l', 'app in (odd),app!=even', '-o', 'name']);
  t.same(label.stdout.trim().split('\n'), ['pod/p1', 'pod/p3', 'pod/p5']);
  const missing = await k.run(['get', 'svc', 'nope']);
  t.not(missing.code, 0);
  t.match(missing.stderr, /Error from server \(NotFound\): services "nope" not found/);
  const file = join(k.args[1], '..', 'pod.json');
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  const dup = await k.run(['create', '--validate=false', '-f', file]);
  t.match(dup.stderr, /Error from server \(AlreadyExists\).*pods "p1" already exists/);
});

t.test('kubectl get svc --watch sees ADDED then MODIFIED', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const web = api.create(svc('default', 'web', 80));
  const k = await kubectlFor(t, api);
  const child = spawn(KUBECTL, [...k.args, 'get', 'svc', '--watch', '--output-watch-events']);
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await eventually(() => /ADDED\s+web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP/.test(out), 15_000);
  api.update({ ...web, metadata: { ...web.metadata, resourceVersion: undefined }, spec: { ...web.spec, ports: [{ name: 'http', port: 81 }] } });
  await eventually(() => /MODIFIED\s+web\s+ClusterIP\s+\S+\s+<none>\s+81\/TCP/.test(out), 15_000);
  api.delete('services', 'default', 'web');
  await eventually(() => /DELETED\s+web/.test(out), 15_000);
  child.kill('SIGTERM');
  t.equal(api.requestCount('watch', 'services'), 1, 'one watch, no re-watch');
  t.ok(out.indexOf('ADDED') < out.indexOf('MODIFIED') && out.indexOf('MODIFIED') < out.indexOf('DELETED'));
});

const MANIFEST = (targetPort: number): string => `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: http
    port: 80
    targetPort: ${targetPort}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cart-abc
  namespace: shop
  labels:
    kubernetes.io/service-name: cart
addressType: IPv4
ports:
- name: http
  port: ${targetPort}
  protocol: TCP
endpoints:
- addresses: ["10.244.0.5"]
  conditions: {ready: true}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ipamblocks.netlet.io
spec:
  group: netlet.io
  scope: Cluster
  names: {plural: ipamblocks, singular: ipamblock, kind: IPAMBlock, listKind: IPAMBlockList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: netlet.io/v1
kind: IPAMBlock
metadata:
  name: 10-244-0-0-26
  labels: {generation: "g${targetPort}"}
spec: {cidr: 10.244.0.0/26, node: node-a, pool: default}
`;

t.test('kubectl apply (create, unchanged, configured) and delete of a multi-document file', async (t) => {
  const api = await startApiServer({ namespaceDeletionDelayMs: 50 });
  t.teardown(() => api.close());
  const k = await kubectlFor(t, api);
  const file = join(k.args[1], '..', 'manifest.yaml');
  await writeFile(file, MANIFEST(8080));
  const first = await k.run(['apply', '--validate=false', '-f', file]);
  t.equal(first.code, 0, first.stderr);
  t.same(first.stdout.trim().split('\n'), [
    'namespace/shop created',
    'service/cart created',
    'endpointslice.discovery.k8s.io/cart-abc created',
    'customresourcedefinition.apiextensions.k8s.io/ipamblocks.netlet.io created',
    'ipamblock.netlet.io/10-244-0-0-26 created',
  ]);
  t.match(api.get('services', 'shop', 'cart'), { spec: { ports: [{ port: 80, targetPort: 8080 }], clusterIP: /^10\.96\./ } });
  t.match(api.get('ipamblocks', '', '10-244-0-0-26'), { spec: { cidr: '10.244.0.0/26', node: 'node-a' } });
  t.match(api.get('crd', '', 'ipamblocks.netlet.io'), { status: { conditions: [{ type: 'NamesAccepted' }, { type: 'Established', status: 'True' }] } });
  const rvBefore = api.resourceVersion;
  const again = await k.run(['apply', '--validate=false', '-f', file]);
  t.equal(again.code, 0, again.stderr);
  t.ok(again.stdout.trim().split('\n').every((l) => l.endsWith(' unchanged')), again.stdout);
  t.equal(api.resourceVersion, rvBefore, 'an unchanged apply writes nothing');
  await writeFile(file, MANIFEST(9090));
  const changed = await k.run(['apply', '--validate=false', '-f', file]);
  t.match(changed.stdout, /service\/cart configured\n/);
  t.match(changed.stdout, /endpointslice.discovery.k8s.io\/cart-abc configured\n/);
  t.match(changed.stdout, /namespace\/shop unchanged\n/);
  t.match(changed.stdout, /ipamblock.netlet.io\/10-244-0-0-26 configured\n/, 'a custom resource takes a merge patch');
  t.match(api.get('ipamblocks', '', '10-244-0-0-26'), { metadata: { labels: { generation: 'g9090' } }, spec: { node: 'node-a' } });
  t.match(api.get('services', 'shop', 'cart'), { spec: { ports: [{ name: 'http', port: 80, targetPort: 9090 }] }, metadata: { generation: 2 } });
  const del = await k.run(['delete', '-f', file]);
  t.equal(del.code, 0, del.stderr);
  t.same(del.stdout.trim().split('\n'), [
    'namespace "shop" deleted',
    'service "cart" deleted',
    'endpointslice.discovery.k8s.io "cart-abc" deleted',
    'customresourcedefinition.apiextensions.k8s.io "ipamblocks.netlet.io" deleted',
    'ipamblock.netlet.io "10-244-0-0-26" deleted',
  ]);
  await eventually(() => api.get('namespaces', '', 'shop') === undefined);
  t.equal(api.count('services'), 0);
  t.equal(api.count('endpointslices'), 0);
  t.equal(api.count('ipamblocks'), 0);
});

t.test('kubectl applies the project’s own CRD manifest and prints IPAMBlocks with its columns', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const k = await kubectlFor(t, api);
  const crd = new URL('../../../deploy/crd-ipamblocks.yaml', import.meta.url).pathname;
  const applied = await k.run(['apply', '--validate=false', '-f', crd]);
  t.equal(applied.code, 0, applied.stderr);
  t.equal(applied.stdout.trim(), 'customresourcedefinition.apiextensions.k8s.io/ipamblocks.netlet.io created');
  const established = await k.run(['wait', '--for=condition=Established', '--timeout=10s', 'crd/ipamblocks.netlet.io']);
  t.equal(established.code, 0, established.stderr);
  api.create({ apiVersion: 'netlet.io/v1', kind: 'IPAMBlock', metadata: { name: '10-244-1-64-26' }, spec: { cidr: '10.244.1.64/26', node: 'node-b', pool: 'default' } });
  const table = await k.run(['get', 'ipamblocks']);
  t.match(table.stdout, /NAME\s+CIDR\s+NODE\s+POOL\s+AGE\n10-244-1-64-26\s+10\.244\.1\.64\/26\s+node-b\s+default\s+\d+s/);
});
