// The kubernetes plugin's properties that change which names exist
// (noendpoints, ignore empty_service, labels, namespace_labels): a table of
// {qname, qtype} → {rcode, answer} per property, in zone-file text.
import t from 'tap';
import { ask, inProcessDns, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';

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
];

for (const table of tables) {
  t.test(`kubernetes ${table.property}`, async (t) => {
    const dns = inProcessDns(syncedStore(clusterObjects()), { fallthrough: [], ...table.config });
    for (const row of table.rows) {
      const r = await ask(dns, row.qname, row.qtype);
      t.equal(r.rcode, row.rcode, `${row.name}: rcode`);
      t.strictSame([...r.answer].sort(), [...(row.answer ?? [])].sort(), `${row.name}: answer`);
    }
  });
}

t.test('without these properties the same names answer (the rows above are not vacuous)', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()), { fallthrough: [] });
  for (const [qname, qtype] of [[`hdls1.testns.${Z}`, 'A'], [`pod-one.svc1.testns.${Z}`, 'A'], ['2.0.0.172.in-addr.arpa.', 'PTR'], [`svc6.testns.${Z}`, 'AAAA'], [`_http._tcp.svc6.testns.${Z}`, 'SRV']]) {
    t.equal((await ask(dns, qname, qtype)).rcode, 'NOERROR', `${qname} ${qtype}`);
  }
});
