// The kubernetes plugin's properties that change which names exist
// (noendpoints, ignore empty_service, labels, namespace_labels): a table of
// {qname, qtype} → {rcode, answer} per property, in zone-file text.
import t from 'tap';
import { ask, inProcessDns, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import type { AnyObject, Namespace } from '../../../src/k8s/objects.ts';
import { convertNamespace } from '../../../src/k8s/convert/namespace.ts';

let version = 100;
function labelled(name: string, labels: Record<string, string>): Namespace {
  return { kind: 'Namespace', meta: { namespace: '', name, uid: `uid-${name}`, resourceVersion: String(version++) }, labels };
}

const Z = 'svc.cluster.local.';

interface Row {
  name: string;
  qname: string;
  qtype: string;
  rcode: string;
  answer?: string[];
}

interface Table {
  property: string;
  config: Partial<DnsConfig>;
  /** Objects put in the store over the common cluster's. */
  objects?: AnyObject[];
  rows: Row[];
}

const tables: Table[] = [
  {
    property: 'noendpoints',
    config: { noEndpoints: true },
    rows: [
      { name: 'ClusterIP A still answers', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
      { name: 'ClusterIP SRV of a named port still answers', qname: `_http._tcp.svc1.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.svc1.testns.${Z} 5 IN SRV 0 100 80 svc1.testns.${Z}`] },
      { name: 'endpoint name of a ClusterIP service is NXDOMAIN', qname: `pod-one.svc1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'headless service is NXDOMAIN', qname: `hdls1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'headless SRV is NXDOMAIN', qname: `_http._tcp.hdls1.testns.${Z}`, qtype: 'SRV', rcode: 'NXDOMAIN' },
      { name: 'headless endpoint name is NXDOMAIN', qname: `172-0-0-2.hdls1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'ExternalName still answers', qname: `external-to-service.testns.${Z}`, qtype: 'CNAME', rcode: 'NOERROR', answer: [`external-to-service.testns.${Z} 5 IN CNAME svc1.testns.${Z}`] },
      { name: 'PTR of a ClusterIP still answers', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`] },
      { name: 'PTR of an endpoint is NXDOMAIN', qname: '2.0.0.172.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN' },
    ],
  },
  {
    property: 'ignore empty_service',
    config: { ignoreEmptyService: true },
    rows: [
      { name: 'ClusterIP service with a ready endpoint answers', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
      { name: 'its endpoint name answers', qname: `pod-one.svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`pod-one.svc1.testns.${Z} 5 IN A 172.0.0.1`] },
      { name: 'ClusterIP service without endpoints is NXDOMAIN', qname: `svc6.testns.${Z}`, qtype: 'AAAA', rcode: 'NXDOMAIN' },
      { name: 'its named port SRV is NXDOMAIN', qname: `_http._tcp.svc6.testns.${Z}`, qtype: 'SRV', rcode: 'NXDOMAIN' },
      { name: 'its namespace still exists', qname: `testns.${Z}`, qtype: 'A', rcode: 'NOERROR' },
      { name: 'its PTR still answers (CoreDNS checks only forward names)', qname: '3.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`3.0.0.10.in-addr.arpa. 5 IN PTR dual.testns.${Z}`] },
      { name: 'ExternalName is not affected', qname: `external-to-service.testns.${Z}`, qtype: 'CNAME', rcode: 'NOERROR', answer: [`external-to-service.testns.${Z} 5 IN CNAME svc1.testns.${Z}`] },
      { name: 'headless with ready endpoints answers', qname: `hdls1.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: ['5678:abcd::1', '5678:abcd::2'].map((ip) => `hdls1.testns.${Z} 5 IN AAAA ${ip}`) },
    ],
  },
  {
    property: 'namespace_labels',
    config: { namespaceLabels: 'team in (a, b), !legacy' },
    objects: [labelled('testns', { team: 'a' }), labelled('default', { team: 'b', legacy: 'yes' })],
    rows: [
      { name: 'service in a matching namespace answers', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
      { name: 'service in a namespace the selector excludes is NXDOMAIN', qname: `web.default.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'the excluded namespace itself is NXDOMAIN', qname: `default.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'a namespace without the label is NXDOMAIN', qname: `kube-dns.kube-system.${Z}`, qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'pod names in an excluded namespace are NXDOMAIN', qname: '1-2-3-4.default.pod.cluster.local.', qtype: 'A', rcode: 'NXDOMAIN' },
      { name: 'pod names in a matching namespace answer', qname: '1-2-3-4.testns.pod.cluster.local.', qtype: 'A', rcode: 'NOERROR', answer: ['1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4'] },
      { name: 'PTR into an excluded namespace is NXDOMAIN', qname: '5.5.96.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN' },
      { name: 'PTR into a matching namespace answers', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`] },
    ],
  },
];

for (const table of tables) {
  t.test(`kubernetes ${table.property}`, async (t) => {
    const store = syncedStore(clusterObjects());
    for (const o of table.objects ?? []) store.upsert(o);
    const dns = inProcessDns(store, { fallthrough: [], ...table.config });
    for (const row of table.rows) {
      const r = await ask(dns, row.qname, row.qtype);
      t.equal(r.rcode, row.rcode, `${row.name}: rcode`);
      t.strictSame([...r.answer].sort(), [...(row.answer ?? [])].sort(), `${row.name}: answer`);
    }
  });
}

t.test('without these properties the same names answer (the rows above are not vacuous)', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()), { fallthrough: [] });
  for (const [qname, qtype] of [[`hdls1.testns.${Z}`, 'A'], [`pod-one.svc1.testns.${Z}`, 'A'], ['2.0.0.172.in-addr.arpa.', 'PTR'], [`svc6.testns.${Z}`, 'AAAA'], [`_http._tcp.svc6.testns.${Z}`, 'SRV'], [`web.default.${Z}`, 'A'], ['5.5.96.10.in-addr.arpa.', 'PTR']]) {
    t.equal((await ask(dns, qname, qtype)).rcode, 'NOERROR', `${qname} ${qtype}`);
  }
});

t.test('namespace_labels follows a namespace relabelled after start', async (t) => {
  const store = syncedStore(clusterObjects());
  store.upsert(labelled('testns', { team: 'a' }));
  const dns = inProcessDns(store, { fallthrough: [], namespaceLabels: 'team=a' });
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A')).rcode, 'NOERROR');
  store.upsert(labelled('testns', { team: 'c' }));
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A')).rcode, 'NXDOMAIN', 'the label no longer matches: gone');
  store.upsert(labelled('testns', { team: 'a' }));
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A')).rcode, 'NOERROR', 'and back');
});

t.test('a Namespace keeps its labels through conversion', async (t) => {
  const ns = convertNamespace({ metadata: { name: 'shop', uid: 'u', resourceVersion: '1', labels: { team: 'a' } } });
  t.strictSame(ns.labels, { team: 'a' });
  t.equal(convertNamespace({ metadata: { name: 'bare', uid: 'u', resourceVersion: '1' } }).labels, undefined, 'no labels: no field');
  t.throws(() => convertNamespace({ metadata: { name: 'bad', uid: 'u', resourceVersion: '1', labels: { team: 7 } } }), /labels/);
});
