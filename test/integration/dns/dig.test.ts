// The server over real UDP and TCP sockets on loopback, checked with dig.
import t from 'tap';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { sh } from '../../helpers/netns.ts';
import { dnsConfig, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { fixtureWithManyEndpoints } from './serve-fixture.ts';

const Z = 'svc.cluster.local.';

t.test('dig against the server', async (t) => {
  const dns = new ClusterDns({ store: syncedStore(fixtureWithManyEndpoints()), config: dnsConfig() });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = String(dns.server.addresses()[0].port);
  const dig = (...args: string[]) => sh('dig', ['@127.0.0.1', '-p', port, '+time=5', '+tries=2', ...args]);
  const short = async (...args: string[]) => (await dig('+short', ...args)).trim().split('\n').filter(Boolean).sort();

  const rows: Array<{ name: string; args: string[]; want: string[] }> = [
    { name: 'A over UDP', args: [`svc1.testns.${Z}`, 'A'], want: ['10.0.0.1'] },
    { name: 'A over TCP', args: ['+tcp', `svc1.testns.${Z}`, 'A'], want: ['10.0.0.1'] },
    { name: 'AAAA', args: [`svc6.testns.${Z}`, 'AAAA'], want: ['1234:abcd::1'] },
    { name: 'SRV', args: [`_http._tcp.svc1.testns.${Z}`, 'SRV'], want: [`0 100 80 svc1.testns.${Z}`] },
    { name: 'PTR with -x', args: ['-x', '10.0.0.1'], want: [`svc1.testns.${Z}`] },
    { name: 'CNAME', args: [`external.testns.${Z}`, 'CNAME'], want: ['ext.interwebs.test.'] },
    { name: 'TXT', args: ['dns-version.cluster.local.', 'TXT'], want: ['"1.1.0"'] },
    { name: 'headless', args: [`hdls1.testns.${Z}`, 'A'], want: ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'] },
  ];
  for (const row of rows) t.strictSame(await short(...row.args), row.want, row.name);

  const nx = await dig(`nope.testns.${Z}`, 'A');
  t.match(nx, /status: NXDOMAIN/, 'NXDOMAIN');
  t.match(nx, /AUTHORITY: 1/, 'NXDOMAIN carries the SOA');
  const nodata = await dig(`svc1.testns.${Z}`, 'AAAA');
  t.match(nodata, /status: NOERROR/);
  t.match(nodata, /ANSWER: 0, AUTHORITY: 1/, 'NODATA: empty answer, SOA in authority');
  t.match(nodata, /cluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./);

  const mixed = await dig('SvC1.TeStNs.SVC.cluster.LOCAL.', 'A');
  t.match(mixed, /;SvC1\.TeStNs\.SVC\.cluster\.LOCAL\.\s+IN\s+A/, 'question case echoed');
  t.match(mixed, /\nSvC1\.TeStNs\.SVC\.cluster\.LOCAL\.\s+\d\s+IN\s+A\s+10\.0\.0\.1/, 'answer owner case echoed (TTL aged since svc1 was first asked)');

  const edns = await dig('+bufsize=1232', `svc1.testns.${Z}`, 'A');
  t.match(edns, /udp: 1232/, 'OPT with the client\'s UDP size');
  const small = await dig('+bufsize=512', `svc1.testns.${Z}`, 'A');
  t.match(small, /udp: 512/, 'bufsize 512 gets udp: 512, as CoreDNS echoes it');
  t.match(small, /flags: qr aa rd;/, 'kubernetes answers carry no RA, as CoreDNS\'s');
  const noedns = await dig('+noedns', `svc1.testns.${Z}`, 'A');
  t.notMatch(noedns, /OPT PSEUDOSECTION/, 'no OPT when the query had none');

  const truncated = await dig('+ignore', '+bufsize=512', `big.testns.${Z}`, 'A');
  t.match(truncated, /flags: qr aa tc/, 'TC set on the cut UDP answer');
  const retried = await dig('+bufsize=512', `big.testns.${Z}`, 'A');
  t.match(retried, /ANSWER: 100,/, 'dig retried over TCP and got all 100');
  t.match(retried, /Truncated, retrying in TCP mode/);
  const bigBuf = await dig('+bufsize=4096', `big.testns.${Z}`, 'A');
  t.match(bigBuf, /ANSWER: 100,/, 'fits the client’s larger UDP size');
  t.notMatch(bigBuf, /Truncated/);

  // Several queries over one TCP connection.
  const keep = await sh('dig', ['@127.0.0.1', '-p', port, '+tcp', '+keepopen', '+short', `svc1.testns.${Z}`, 'A', `svc6.testns.${Z}`, 'AAAA', `dual.testns.${Z}`, 'A']);
  t.strictSame(keep.trim().split('\n'), ['10.0.0.1', '1234:abcd::1', '10.0.0.3'], 'pipelined on one connection');

  const refused = await dig('example.org.', 'A');
  t.match(refused, /status: REFUSED/, 'outside the zones, no forwarder: REFUSED');
});
