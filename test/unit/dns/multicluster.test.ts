// kubernetes { multicluster clusterset.local }: names of the clusterset
// zone answered from ServiceImports and their MCS EndpointSlices (KEP-1645),
// as a table of {qname, qtype} → {rcode, answer} in zone-file text.
import t from 'tap';
import { ask, inProcessDns, syncedStore } from './dns-helpers.ts';
import { convertEndpointSlice, convertNamespace, convertService, convertServiceImport } from '../../../src/k8s/convert/index.ts';
import type { AnyObject } from '../../../src/k8s/objects.ts';
import { parseCorefile } from '../../../src/dns/corefile/parse.ts';

const CS = 'svc.clusterset.local.';
const CL = 'svc.cluster.local.';
let rv = 1;
const meta = (name: string, labels: Record<string, string> = {}) => ({ name, namespace: 'shop', uid: `u-${name}`, resourceVersion: String(rv++), labels });

/** An MCS EndpointSlice: endpoints of `service` living in `cluster`. */
function importedSlice(name: string, service: string, cluster: string, endpoints: Array<{ ip: string; hostname?: string; ready?: boolean }>) {
  return convertEndpointSlice({
    metadata: meta(name, { 'multicluster.kubernetes.io/service-name': service, 'multicluster.kubernetes.io/source-cluster': cluster }),
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: { ready: e.ready ?? true } })),
  });
}

function objects(): AnyObject[] {
  return [
    convertNamespace({ metadata: { name: 'shop', uid: 'ns', resourceVersion: '1' } }),
    // The local Service of the same name: its cluster.local names stay its own.
    convertService({ metadata: meta('web'), spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] } }),
    convertServiceImport({ metadata: meta('web'), spec: { type: 'ClusterSetIP', ips: ['10.42.0.5', 'fd00::5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9090 }], sessionAffinity: 'None' } }),
    convertServiceImport({ metadata: meta('db'), spec: { type: 'Headless', ports: [{ name: 'http', port: 8080 }] } }),
    importedSlice('db-east', 'db', 'east', [{ ip: '10.1.0.1', hostname: 'db-0' }, { ip: '10.1.0.2', ready: false }]),
    importedSlice('db-west', 'db', 'west', [{ ip: '10.2.0.1' }]),
    convertServiceImport({ metadata: meta('empty'), spec: { type: 'Headless' } }),
  ];
}

const config = { zones: ['cluster.local.', 'clusterset.local.', 'in-addr.arpa.', 'ip6.arpa.'], multicluster: ['clusterset.local.'], fallthrough: [] };

const rows: Array<{ name: string; qname: string; qtype: string; rcode: string; answer?: string[]; additional?: string[] }> = [
  { name: 'ClusterSetIP A: the ServiceImport IPs', qname: `web.shop.${CS}`, qtype: 'A', rcode: 'NOERROR', answer: [`web.shop.${CS} 5 IN A 10.42.0.5`] },
  { name: 'ClusterSetIP AAAA', qname: `web.shop.${CS}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`web.shop.${CS} 5 IN AAAA fd00::5`] },
  { name: 'ClusterSetIP SRV: every port', qname: `web.shop.${CS}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`web.shop.${CS} 5 IN SRV 0 50 80 web.shop.${CS}`, `web.shop.${CS} 5 IN SRV 0 50 9090 web.shop.${CS}`], additional: [`web.shop.${CS} 5 IN A 10.42.0.5`, `web.shop.${CS} 5 IN AAAA fd00::5`] },
  { name: 'ClusterSetIP named port SRV', qname: `_http._tcp.web.shop.${CS}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.web.shop.${CS} 5 IN SRV 0 100 80 web.shop.${CS}`] },
  { name: 'ClusterSetIP unknown port is NXDOMAIN', qname: `_grpc._tcp.web.shop.${CS}`, qtype: 'SRV', rcode: 'NXDOMAIN' },
  { name: 'ClusterSetIP has no endpoint names', qname: `db-0.east.web.shop.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'ClusterSetIP TXT is NODATA', qname: `web.shop.${CS}`, qtype: 'TXT', rcode: 'NOERROR' },
  { name: 'the cluster zone keeps the local Service', qname: `web.shop.${CL}`, qtype: 'A', rcode: 'NOERROR', answer: [`web.shop.${CL} 5 IN A 10.96.0.10`] },
  { name: 'Headless A: ready endpoints of every cluster', qname: `db.shop.${CS}`, qtype: 'A', rcode: 'NOERROR', answer: [`db.shop.${CS} 5 IN A 10.1.0.1`, `db.shop.${CS} 5 IN A 10.2.0.1`] },
  { name: 'Headless SRV: one target per endpoint, named hostname.clusterid', qname: `_http._tcp.db.shop.${CS}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.db.shop.${CS} 5 IN SRV 0 50 8080 db-0.east.db.shop.${CS}`, `_http._tcp.db.shop.${CS} 5 IN SRV 0 50 8080 10-2-0-1.west.db.shop.${CS}`], additional: [`db-0.east.db.shop.${CS} 5 IN A 10.1.0.1`, `10-2-0-1.west.db.shop.${CS} 5 IN A 10.2.0.1`] },
  { name: 'Headless endpoint by hostname and cluster id', qname: `db-0.east.db.shop.${CS}`, qtype: 'A', rcode: 'NOERROR', answer: [`db-0.east.db.shop.${CS} 5 IN A 10.1.0.1`] },
  { name: 'Headless endpoint by dashed IP', qname: `10-2-0-1.west.db.shop.${CS}`, qtype: 'A', rcode: 'NOERROR', answer: [`10-2-0-1.west.db.shop.${CS} 5 IN A 10.2.0.1`] },
  { name: 'Headless endpoint in the wrong cluster is NXDOMAIN', qname: `db-0.west.db.shop.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'a not-ready endpoint has no name', qname: `10-1-0-2.east.db.shop.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'Headless without ready endpoints is NXDOMAIN', qname: `empty.shop.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'a Service without a ServiceImport is NXDOMAIN in the clusterset zone', qname: `svc9.shop.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'no pod names in the clusterset zone', qname: `10-1-0-1.shop.pod.clusterset.local.`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'an unknown namespace is NXDOMAIN', qname: `web.other.${CS}`, qtype: 'A', rcode: 'NXDOMAIN' },
  { name: 'the namespace name exists', qname: `shop.${CS}`, qtype: 'A', rcode: 'NOERROR' },
  { name: 'the apex answers its SOA', qname: 'clusterset.local.', qtype: 'SOA', rcode: 'NOERROR', answer: ['clusterset.local. 5 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. SERIAL 7200 1800 86400 5'] },
];

t.test('kubernetes multicluster answers the clusterset zone from ServiceImports', async (t) => {
  const dns = inProcessDns(syncedStore(objects()), config);
  for (const row of rows) {
    const r = await ask(dns, row.qname, row.qtype);
    t.equal(r.rcode, row.rcode, `${row.name}: rcode`);
    t.strictSame([...r.answer].sort(), [...(row.answer ?? [])].sort(), `${row.name}: answer`);
    if (row.additional) t.strictSame([...r.additional].sort(), [...row.additional].sort(), `${row.name}: additional`);
  }
});

t.test('without multicluster the clusterset zone is an ordinary cluster zone (the rows above are not vacuous)', async (t) => {
  const dns = inProcessDns(syncedStore(objects()), { ...config, multicluster: undefined });
  t.equal((await ask(dns, `web.shop.${CS}`, 'A')).answer[0], `web.shop.${CS} 5 IN A 10.96.0.10`, 'the local Service answers');
  t.equal((await ask(dns, `db.shop.${CS}`, 'A')).rcode, 'NXDOMAIN', 'no Service db');
});

t.test('imports and their slices followed after start', async (t) => {
  const store = syncedStore(objects());
  const dns = inProcessDns(store, config);
  t.equal((await ask(dns, `db.shop.${CS}`, 'A')).answer.length, 2);
  store.upsert(importedSlice('db-north', 'db', 'north', [{ ip: '10.3.0.1' }]));
  t.equal((await ask(dns, `db.shop.${CS}`, 'A')).answer.length, 3, 'a new cluster’s slice adds its endpoint');
  store.remove('EndpointSlice', 'shop/db-east');
  t.strictSame((await ask(dns, `db.shop.${CS}`, 'A')).answer.sort(), [`db.shop.${CS} 5 IN A 10.2.0.1`, `db.shop.${CS} 5 IN A 10.3.0.1`], 'a removed slice takes its endpoints');
  store.upsert(convertServiceImport({ metadata: meta('web'), spec: { type: 'ClusterSetIP', ips: ['10.42.0.6'] } }));
  t.strictSame((await ask(dns, `web.shop.${CS}`, 'A')).answer, [`web.shop.${CS} 5 IN A 10.42.0.6`], 'a changed import changes the answer');
  store.remove('ServiceImport', 'shop/web');
  t.equal((await ask(dns, `web.shop.${CS}`, 'A')).rcode, 'NXDOMAIN', 'a removed import is gone');
});

t.test('ServiceImport conversion refuses bad objects by field', async (t) => {
  const base = { metadata: { name: 'x', namespace: 'shop', uid: 'u', resourceVersion: '1' } };
  t.throws(() => convertServiceImport({ ...base }), /spec: required/);
  t.throws(() => convertServiceImport({ ...base, spec: { type: 'LoadBalancer' } }), /spec\.type: must be ClusterSetIP or Headless/);
  t.throws(() => convertServiceImport({ ...base, spec: { type: 'ClusterSetIP', ips: ['10.0.0.300'] } }), /spec\.ips\[0\]/);
  t.throws(() => convertServiceImport({ ...base, spec: { type: 'ClusterSetIP', ports: [{ name: 'a' }] } }), /spec\.ports\[0\]\.port: required/);
});

t.test('the Corefile property: zones named after kubernetes too', async (t) => {
  const ok = parseCorefile('. {\n kubernetes cluster.local clusterset.local {\n  multicluster clusterset.local\n }\n}\n');
  t.strictSame(ok.multicluster, ['clusterset.local.']);
  t.throws(() => parseCorefile('. {\n kubernetes cluster.local {\n  multicluster clusterset.local\n }\n}\n'), /line 3: 'kubernetes multicluster' zone 'clusterset\.local\.' is not one of the kubernetes zones/);
  t.throws(() => parseCorefile('. {\n kubernetes cluster.local clusterset.local {\n  multicluster\n }\n}\n'), /multicluster/);
});
