// Server blocks as CoreDNS has them: several blocks with zones and ports,
// CIDR zones standing for reverse zones, `bind`, and a query going to the
// block with the longest matching zone on the port it came in on.
import t from 'tap';
import type { Test } from 'tap';
import { allBlocks } from '../../../src/dns/corefile/config.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { parseCorefile } from '../../../src/dns/corefile/parse.ts';
import { freePort } from '../../helpers/free-port.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { checkRows, serveCorefile } from './corefile-server.ts';
import { checkRefused } from './refused-corefiles.ts';
import type { RefusedCorefile } from './refused-corefiles.ts';

const blocks = (text: string) => allBlocks(parseCorefile(text, 'Corefile'));

const parsed: Array<{ name: string; corefile: string; want: (b: DnsConfig[]) => unknown; expect: unknown }> = [
  { name: 'several blocks, zones and ports', corefile: '.:53 {\n errors\n}\ncluster.local:53 {\n errors\n}\nexample.org:1053 {\n errors\n}',
    want: (b) => b.map((c) => [c.serverZones, c.listen]),
    expect: [[['.'], [{ host: '0.0.0.0', port: 53 }]], [['cluster.local.'], [{ host: '0.0.0.0', port: 53 }]], [['example.org.'], [{ host: '0.0.0.0', port: 1053 }]]] },
  { name: 'dns:// scheme and several keys in one block', corefile: 'dns://cluster.local:5353 dns://in-addr.arpa:5353 {\n errors\n}', want: (b) => [b[0].serverZones, b[0].listen[0].port], expect: [['cluster.local.', 'in-addr.arpa.'], 5353] },
  { name: 'comma-separated keys', corefile: 'a.example,b.example {\n errors\n}', want: (b) => b[0].serverZones, expect: ['a.example.', 'b.example.'] },
  { name: 'a CIDR key is its reverse zones', corefile: '10.96.0.0/14:53 {\n errors\n}', want: (b) => b[0].serverZones, expect: ['96.10.in-addr.arpa.', '97.10.in-addr.arpa.', '98.10.in-addr.arpa.', '99.10.in-addr.arpa.'] },
  { name: 'an IPv6 CIDR key (30 nibbles fixed)', corefile: 'fd00::/120 {\n errors\n}', want: (b) => b[0].serverZones, expect: [`${'0.'.repeat(28)}d.f.ip6.arpa.`] },
  { name: 'kubernetes CIDR zone arguments', corefile: '. {\n kubernetes cluster.local 10.0.0.0/16 fd00::/64\n}', want: (b) => b[0].zones, expect: ['cluster.local.', '0.10.in-addr.arpa.', '0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.'] },
  { name: 'bind addresses keep the key port', corefile: 'cluster.local:1053 {\n bind 127.0.0.1 ::1\n}', want: (b) => b[0].listen, expect: [{ host: '127.0.0.1', port: 1053 }, { host: '::1', port: 1053 }] },
  { name: 'two binds add up, except removes', corefile: '. {\n bind 127.0.0.1\n bind 127.0.0.2 127.0.0.3 {\n  except 127.0.0.2\n }\n}', want: (b) => b[0].listen.map((l) => l.host), expect: ['127.0.0.1', '127.0.0.3'] },
  { name: 'bind an interface: its addresses', corefile: '. {\n bind lo\n}', want: (b) => b[0].listen.map((l) => l.host).includes('127.0.0.1'), expect: true },
  { name: 'health, ready and prometheus from any block', corefile: 'a.example {\n health :18080\n}\n. {\n ready :18181\n prometheus :19153\n}', want: (b) => [b[0].health, b[0].ready, b[0].prometheus], expect: [':18080', ':18181', ':19153'] },
  { name: 'same zone on two ports', corefile: 'example.org:53 {\n errors\n}\nexample.org:54 {\n errors\n}', want: (b) => b.length, expect: 2 },
];

t.test('server blocks → configs', async (t) => {
  for (const r of parsed) t.strictSame(r.want(blocks(r.corefile)), r.expect, r.name);
});

const refused: RefusedCorefile[] = [
  { name: 'DNS over TLS server', corefile: 'tls://.:853 {\n errors\n}', key: 'corefile', message: /line 1: server block key 'tls:\/\/.:853': tls:\/\/ servers are not supported/ },
  { name: 'HTTPS server', corefile: 'https://. {\n errors\n}', key: 'corefile', message: /https:\/\//, },
  { name: 'two ports in one block', corefile: 'a.example:53 b.example:54 {\n errors\n}', key: 'corefile', message: /ports 53 and 54 in one block/ },
  { name: 'one zone twice on one address', corefile: '.:53 {\n errors\n}\n.:53 {\n log\n}', key: 'corefile', message: /line 4: zone \. on 0\.0\.0\.0:53 is already served by the block at Corefile line 1/ },
  { name: 'different health addresses in two blocks', corefile: 'a.example {\n health :1\n}\nb.example {\n health :2\n}', key: 'corefile', message: /line 4: 'health' differs/ },
  { name: 'a CIDR prefix out of range', corefile: '10.0.0.0/33 {\n errors\n}', key: 'corefile', message: /'10\.0\.0\.0\/33': prefix length out of range/ },
  { name: 'bind to something that is no address', corefile: '. {\n bind no-such-nic0\n}', key: 'bind', message: /'no-such-nic0' is neither an IP address nor an interface/ },
];

t.test('server blocks refused by name', async (t) => checkRefused(t, refused));

/** An upstream that answers every A question with `answer`: which block forwarded shows in the answer. */
async function upstream(t: Test, answer: string): Promise<FakeUpstream> {
  const u = new FakeUpstream(answer);
  await u.start();
  t.teardown(() => u.stop());
  return u;
}

const Z = 'svc.cluster.local.';

t.test('a query goes to the longest matching zone on its address', async (t) => {
  const root = await upstream(t, '10.1.1.1');
  const consul = await upstream(t, '10.2.2.2');
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  kubernetes cluster.local 10.0.0.0/16 {
    pods insecure
  }
  forward . ${root.label}
}
consul.local:0 {
  bind 127.0.0.1
  forward . ${consul.label}
}
deep.consul.local:0 {
  bind 127.0.0.1
  errors
}
`,
  });
  await checkRows(t, served, [
    { name: 'cluster name in the root block', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'PTR in the CIDR zone (was REFUSED as a literal zone)', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`] },
    { name: 'PTR outside the CIDR goes on to forward', qname: '1.0.10.10.in-addr.arpa.', qtype: 'A', rcode: 'NOERROR', answer: ['1.0.10.10.in-addr.arpa. 300 IN A 10.1.1.1'] },
    { name: 'stub domain to its own upstream', qname: 'web.consul.local.', qtype: 'A', rcode: 'NOERROR', answer: ['web.consul.local. 300 IN A 10.2.2.2'] },
    { name: 'the stub zone itself', qname: 'consul.local.', qtype: 'A', rcode: 'NOERROR', answer: ['consul.local. 300 IN A 10.2.2.2'] },
    { name: 'the longer zone wins, and has no forward', qname: 'x.deep.consul.local.', qtype: 'A', rcode: 'REFUSED', answer: [] },
    { name: 'anything else to the root block', qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['example.com. 300 IN A 10.1.1.1'] },
    { name: 'names match case-insensitively', qname: 'WEB.Consul.LOCAL.', qtype: 'A', rcode: 'NOERROR', answer: ['WEB.Consul.LOCAL. 300 IN A 10.2.2.2'] },
  ]);
});

t.test('without a root block, names in no zone are REFUSED', async (t) => {
  const served = await serveCorefile(t, { Corefile: 'cluster.local:0 {\n bind 127.0.0.1\n kubernetes cluster.local\n}\n' });
  await checkRows(t, served, [
    { name: 'in the zone', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'outside every zone', qname: 'example.com.', qtype: 'A', rcode: 'REFUSED', answer: [] },
  ]);
});

t.test('blocks on different ports listen separately', async (t) => {
  const [a, b] = [await upstream(t, '10.1.1.1'), await upstream(t, '10.2.2.2')];
  const [pa, pb] = [await freePort(), await freePort()];
  const served = await serveCorefile(t, { Corefile: `.:${pa} {\n bind 127.0.0.1\n forward . ${a.label}\n}\n.:${pb} {\n bind 127.0.0.1\n forward . ${b.label}\n}\n` });
  await checkRows(t, served, [
    { name: 'first port, first block', port: pa, qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['example.com. 300 IN A 10.1.1.1'] },
    { name: 'second port, second block', port: pb, qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['example.com. 300 IN A 10.2.2.2'] },
  ]);
});
