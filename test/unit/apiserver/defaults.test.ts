import t from 'tap';
import { ServiceAllocator, validateIPAMBlock, validateName } from '../../apiserver/defaults.ts';
import { builtinResources } from '../../apiserver/resources.ts';
import { age, tableJSON } from '../../apiserver/table.ts';
import { Stored } from '../../apiserver/storage.ts';

const caught = (fn: () => unknown): any => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

const r = (plural: string) => builtinResources().find((x) => x.plural === plural)!;

t.test('name validation per resource', async (t) => {
  const rows: [string, string, string, boolean][] = [
    ['service DNS-1035 label', 'services', 'web-1', true],
    ['service may not start with a digit', 'services', '1web', false],
    ['service may not have dots', 'services', 'a.b', false],
    ['service max 63', 'services', 'a'.repeat(64), false],
    ['namespace label', 'namespaces', '1-ns', true],
    ['namespace no dots', 'namespaces', 'a.b', false],
    ['node subdomain with dots', 'nodes', 'node-1.example.com', true],
    ['no capitals', 'nodes', 'Node', false],
    ['IPAMBlock named after its CIDR', 'ipamblocks', '10-244-0-0-26', true],
  ];
  for (const [name, plural, value, ok] of rows) {
    if (ok) t.doesNotThrow(() => validateName(r(plural), value), name);
    else t.match(caught(() => validateName(r(plural), value)), { status: { code: 422, reason: 'Invalid' } }, name);
  }
});

t.test('IPAMBlock spec', async (t) => {
  const ok = (spec: unknown) => () => validateIPAMBlock(r('ipamblocks'), { metadata: { name: 'b' }, spec });
  t.doesNotThrow(ok({ cidr: '10.244.0.0/26', node: 'n', pool: 'p' }));
  t.doesNotThrow(ok({ cidr: 'fd00::/122', node: 'n' }));
  t.match(caught(ok({ cidr: 'fd00::/122' })), { status: { details: { causes: [{ field: 'spec.node' }] } } }, 'node is required');
  t.match(caught(ok({ cidr: '10.244.0.0' })), { status: { details: { causes: [{ field: 'spec.cidr' }] } } });
  t.throws(ok({ cidr: '10.244.0.0/33' }));
  t.match(caught(ok({ cidr: '10.244.0.0/26', node: 7 })), { status: { details: { causes: [{ field: 'spec.node' }] } } });
});

t.test('Service defaults, ClusterIP and NodePort allocation', async (t) => {
  const alloc = new ServiceAllocator('10.96.0.0/24');
  const svc = (name: string, spec: any): any => ({ metadata: { name }, spec });
  const a = svc('a', { ports: [{ port: 80 }] });
  alloc.defaultService(r('services'), a, undefined);
  t.match(a.spec, { type: 'ClusterIP', sessionAffinity: 'None', clusterIP: /^10\.96\.0\.\d+$/, ipFamilies: ['IPv4'], ports: [{ protocol: 'TCP', targetPort: 80 }] });
  t.not(a.spec.clusterIP, '10.96.0.1', 'the first address is kept for the kubernetes service');
  const b = svc('b', { clusterIP: a.spec.clusterIP });
  t.throws(() => alloc.defaultService(r('services'), b, undefined), { message: /provided IP is already allocated/ });
  const np = svc('np', { type: 'NodePort', ports: [{ port: 80 }, { port: 443, nodePort: 30443 }] });
  alloc.defaultService(r('services'), np, undefined);
  t.ok(np.spec.ports[0].nodePort >= 30000 && np.spec.ports[0].nodePort <= 32767);
  t.equal(np.spec.ports[1].nodePort, 30443);
  t.equal(np.spec.externalTrafficPolicy, 'Cluster');
  const upd = svc('np', { type: 'NodePort', ports: [{ port: 80 }] });
  alloc.defaultService(r('services'), upd, np);
  t.equal(upd.spec.clusterIP, np.spec.clusterIP, 'an update keeps the ClusterIP');
  t.equal(upd.spec.ports[0].nodePort, np.spec.ports[0].nodePort, 'and the NodePort');
  alloc.release(a);
  const c = svc('c', { clusterIP: a.spec.clusterIP });
  t.doesNotThrow(() => alloc.defaultService(r('services'), c, undefined), 'a released IP can be taken');
  const headless = svc('h', { clusterIP: 'None' });
  alloc.defaultService(r('services'), headless, undefined);
  t.same(headless.spec.clusterIPs, ['None']);
  const ext = svc('e', { type: 'ExternalName', externalName: 'example.com' });
  alloc.defaultService(r('services'), ext, undefined);
  t.equal(ext.spec.clusterIP, undefined, 'ExternalName gets no ClusterIP');
});

t.test('Table rows as kubectl prints them', async (t) => {
  t.equal(age(new Date(Date.now() - 5_000).toISOString()), '5s');
  t.equal(age(new Date(Date.now() - 300_000).toISOString()), '5m0s');
  t.equal(age(new Date(Date.now() - 3 * 3600_000).toISOString()), '3h');
  t.equal(age(new Date(Date.now() - 3 * 86400_000).toISOString()), '3d');
  t.equal(age(undefined), '<unknown>');
  const svc = new Stored(r('services'), 'd/web', {
    metadata: { name: 'web', namespace: 'd' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  }, 9);
  const table = JSON.parse(tableJSON(r('services'), [svc], { resourceVersion: '9' }, 'Metadata'));
  t.same(table.columnDefinitions.map((c: any) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  t.same(table.rows[0].cells.slice(0, 5), ['web', 'LoadBalancer', '10.96.0.5', '1.2.3.4', '80:30080/TCP']);
  t.match(table.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'web' } });
  const none = JSON.parse(tableJSON(r('services'), [svc], {}, 'None'));
  t.equal(none.rows[0].object, undefined);
});
