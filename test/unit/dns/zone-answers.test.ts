// What the cluster zone answers, record kind by record kind: a table of
// {qname, qtype} → {rcode, answer, authority, additional} in zone-file text.
import t from 'tap';
import { ask, inProcessDns, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';

const SOA = 'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5';
const Z = 'svc.cluster.local.';

interface Row {
  name: string;
  qname: string;
  qtype: string;
  rcode: string;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

const rows: Row[] = [
  { name: 'ClusterIP A', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
  { name: 'ClusterIP AAAA on a v4 service is NODATA', qname: `svc1.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', authority: [SOA] },
  { name: 'v6 ClusterIP AAAA', qname: `svc6.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`svc6.testns.${Z} 5 IN AAAA 1234:abcd::1`] },
  { name: 'dual-stack A', qname: `dual.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`dual.testns.${Z} 5 IN A 10.0.0.3`] },
  { name: 'dual-stack AAAA', qname: `dual.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`dual.testns.${Z} 5 IN AAAA 10::3`] },
  {
    name: 'SRV of a named port, target A in additional',
    qname: `_http._tcp.svc1.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR',
    answer: [`_http._tcp.svc1.testns.${Z} 5 IN SRV 0 100 80 svc1.testns.${Z}`],
    additional: [`svc1.testns.${Z} 5 IN A 10.0.0.1`],
  },
  {
    name: 'SRV port and protocol match case-insensitively',
    qname: `_HTTP._TCP.svc1.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR',
    answer: [`_HTTP._TCP.svc1.testns.${Z} 5 IN SRV 0 100 80 svc1.testns.${Z}`],
    additional: [`svc1.testns.${Z} 5 IN A 10.0.0.1`],
  },
  { name: 'SRV of an unknown port is NXDOMAIN', qname: `_https._tcp.svc1.testns.${Z}`, qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    name: 'SRV on the service name lists every port (dual stack: weight 100/4 as CoreDNS)',
    qname: `dual.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR',
    answer: [`dual.testns.${Z} 5 IN SRV 0 25 53 dual.testns.${Z}`, `dual.testns.${Z} 5 IN SRV 0 25 80 dual.testns.${Z}`],
    additional: [`dual.testns.${Z} 5 IN A 10.0.0.3`, `dual.testns.${Z} 5 IN AAAA 10::3`],
  },
  {
    name: 'headless A: every ready v4 endpoint, not the unready one',
    qname: `hdls1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR',
    answer: ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `hdls1.testns.${Z} 5 IN A ${ip}`),
  },
  {
    name: 'headless AAAA',
    qname: `hdls1.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR',
    answer: ['5678:abcd::1', '5678:abcd::2'].map((ip) => `hdls1.testns.${Z} 5 IN AAAA ${ip}`),
  },
  { name: 'endpoint by dashed IP', qname: `172-0-0-2.hdls1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`172-0-0-2.hdls1.testns.${Z} 5 IN A 172.0.0.2`] },
  { name: 'endpoint by dashed v6 IP', qname: `5678-abcd--1.hdls1.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`5678-abcd--1.hdls1.testns.${Z} 5 IN AAAA 5678:abcd::1`] },
  {
    name: 'endpoint by hostname, two endpoints share it',
    qname: `dup-name.hdls1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR',
    answer: [`dup-name.hdls1.testns.${Z} 5 IN A 172.0.0.4`, `dup-name.hdls1.testns.${Z} 5 IN A 172.0.0.5`],
  },
  { name: 'unready endpoint has no name', qname: `172-0-0-9.hdls1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'unknown endpoint is NXDOMAIN', qname: `bogus.hdls1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    name: 'headless SRV: one per endpoint and port, weight floor(100/6)',
    qname: `_http._tcp.hdls1.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR',
    answer: ['172-0-0-2', '172-0-0-3', 'dup-name', '5678-abcd--1', '5678-abcd--2'].map((h) => `_http._tcp.hdls1.testns.${Z} 5 IN SRV 0 16 80 ${h}.hdls1.testns.${Z}`),
    additional: [
      `172-0-0-2.hdls1.testns.${Z} 5 IN A 172.0.0.2`,
      `172-0-0-3.hdls1.testns.${Z} 5 IN A 172.0.0.3`,
      `dup-name.hdls1.testns.${Z} 5 IN A 172.0.0.4`,
      `dup-name.hdls1.testns.${Z} 5 IN A 172.0.0.5`,
      `5678-abcd--1.hdls1.testns.${Z} 5 IN AAAA 5678:abcd::1`,
      `5678-abcd--2.hdls1.testns.${Z} 5 IN AAAA 5678:abcd::2`,
    ],
  },
  { name: 'headless with no ready endpoint is NXDOMAIN', qname: `hdlsnone.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'publishNotReadyAddresses answers unready endpoints', qname: `hdlspub.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`hdlspub.testns.${Z} 5 IN A 172.0.2.1`] },
  { name: 'publishNotReadyAddresses endpoint hostname', qname: `web-0.hdlspub.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`web-0.hdlspub.testns.${Z} 5 IN A 172.0.2.1`] },
  { name: 'endpoint name of a ClusterIP service (CoreDNS answers it)', qname: `pod-one.svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`pod-one.svc1.testns.${Z} 5 IN A 172.0.0.1`] },
  { name: 'ExternalName CNAME', qname: `external.testns.${Z}`, qtype: 'CNAME', rcode: 'NOERROR', answer: [`external.testns.${Z} 5 IN CNAME ext.interwebs.test.`] },
  { name: 'ExternalName A outside the zone, no forwarder to chase it: NODATA (CoreDNS adds no lone CNAME)', qname: `external.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  {
    name: 'ExternalName to a service in the zone: CNAME and the target A',
    qname: `external-to-service.testns.${Z}`, qtype: 'A', rcode: 'NOERROR',
    answer: [`external-to-service.testns.${Z} 5 IN CNAME svc1.testns.${Z}`, `svc1.testns.${Z} 5 IN A 10.0.0.1`],
  },
  { name: 'ExternalName set to an IP answers nothing (CoreDNS)', qname: `external-ip.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'below an ExternalName is NXDOMAIN', qname: `endpoint.external.testns.${Z}`, qtype: 'CNAME', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'missing service', qname: `svc0.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'missing namespace', qname: `svc0.nons.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'existing namespace is NODATA', qname: `testns.${Z}`, qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { name: 'missing namespace name is NXDOMAIN', qname: `nons.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'svc.zone is NODATA', qname: Z, qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { name: 'pod.zone is NODATA', qname: 'pod.cluster.local.', qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { name: 'unknown label under the zone', qname: 'foo.cluster.local.', qtype: 'NS', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'too many labels', qname: `a.b._http._tcp.svc1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'unknown qtype on an existing name is NODATA', qname: `svc1.testns.${Z}`, qtype: 'MX', rcode: 'NOERROR', authority: [SOA] },
  { name: 'SOA query on a service name is NODATA', qname: `svc1.testns.${Z}`, qtype: 'SOA', rcode: 'NOERROR', authority: [SOA] },
  { name: 'TXT dns-version (28800, capped by cache 30 as CoreDNS does)', qname: 'dns-version.cluster.local.', qtype: 'TXT', rcode: 'NOERROR', answer: ['dns-version.cluster.local. 30 IN TXT "1.1.0"'] },
  { name: 'dns-version A is NODATA', qname: 'dns-version.cluster.local.', qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { name: 'apex SOA', qname: 'cluster.local.', qtype: 'SOA', rcode: 'NOERROR', answer: [SOA] },
  {
    name: 'apex NS when no Service has the server\'s address: ns.dns with the server\'s own (coredns-parity.test.ts has the kube-dns case)',
    qname: 'cluster.local.', qtype: 'NS', rcode: 'NOERROR',
    answer: ['cluster.local. 5 IN NS ns.dns.cluster.local.'],
    additional: ['ns.dns.cluster.local. 5 IN A 192.0.2.53'],
  },
  { name: 'ns.dns A', qname: 'ns.dns.cluster.local.', qtype: 'A', rcode: 'NOERROR', answer: ['ns.dns.cluster.local. 5 IN A 192.0.2.53'] },
  { name: 'apex A is NODATA', qname: 'cluster.local.', qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { name: 'pod A (insecure)', qname: '10-244-1-5.testns.pod.cluster.local.', qtype: 'A', rcode: 'NOERROR', answer: ['10-244-1-5.testns.pod.cluster.local. 5 IN A 10.244.1.5'] },
  { name: 'pod A of any IP (insecure)', qname: '1-2-3-4.testns.pod.cluster.local.', qtype: 'A', rcode: 'NOERROR', answer: ['1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4'] },
  { name: 'pod AAAA (insecure)', qname: 'fd00--1.testns.pod.cluster.local.', qtype: 'AAAA', rcode: 'NOERROR', answer: ['fd00--1.testns.pod.cluster.local. 5 IN AAAA fd00::1'] },
  { name: 'pod in a missing namespace', qname: '1-2-3-4.nons.pod.cluster.local.', qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'pod label that is no IP', qname: 'not-an-ip.testns.pod.cluster.local.', qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'wildcards are not expanded (CoreDNS removed them in 1.9)', qname: `*.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    name: 'PTR of a ClusterIP',
    qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR',
    answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`],
  },
  {
    name: 'PTR of a headless endpoint',
    qname: '4.0.0.172.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR',
    answer: [`4.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.${Z}`],
  },
  {
    name: 'PTR of a v6 ClusterIP',
    qname: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.', qtype: 'PTR', rcode: 'NOERROR',
    answer: [`1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa. 5 IN PTR svc6.testns.${Z}`],
  },
  {
    name: 'A on a PTR name is NODATA with the reverse zone SOA',
    qname: '1.0.0.10.in-addr.arpa.', qtype: 'A', rcode: 'NOERROR',
    authority: ['in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. SERIAL 7200 1800 86400 5'],
  },
];

t.test('cluster zone answers', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()), { fallthrough: [] });
  for (const row of rows) {
    const r = await ask(dns, row.qname, row.qtype);
    t.equal(r.rcode, row.rcode, `${row.name}: rcode`);
    t.strictSame([...r.answer].sort(), [...(row.answer ?? [])].sort(), `${row.name}: answer`);
    t.strictSame(r.authority, row.authority ?? [], `${row.name}: authority`);
    t.strictSame([...r.additional].sort(), [...(row.additional ?? [])].sort(), `${row.name}: additional`);
    t.ok(r.flags.qr && r.flags.aa, `${row.name}: authoritative reply`);
  }
});
