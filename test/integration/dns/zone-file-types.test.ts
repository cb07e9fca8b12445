// The file plugin's further record types (CAA, SSHFP, TLSA, DS, NAPTR),
// read from an RFC 1035 zone file and checked with dig, which decodes each
// type's wire form itself: query → rcode and answer as dig prints them.
import t from 'tap';
import { serveCorefile } from '../../unit/dns/corefile-server.ts';
import { sh } from '../../helpers/netns.ts';

const ZONE = `$ORIGIN example.org.
$TTL 300
@ IN SOA ns1 admin 2024010101 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
@ IN CAA 0 issue "letsencrypt.org"
@ IN CAA 128 iodef "mailto:security@example.org"
host IN SSHFP 4 2 0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef
_443._tcp.www IN TLSA 3 1 1 ( 0123456789abcdef0123456789abcdef
                             0123456789abcdef0123456789abcdef )
child IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
sip IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.org!" .
sip IN NAPTR 102 10 "S" "SIP+D2U" "" _sip._udp.example.org.
`;

t.test('zone file CAA, SSHFP, TLSA, DS and NAPTR over UDP and TCP', async (t) => {
  const served = await serveCorefile(t, { Corefile: 'example.org:0 {\n bind 127.0.0.1\n file db.example.org\n}\n', 'db.example.org': ZONE });
  // Relative paths are read beside the Corefile by serveCorefile's component.
  const rows = [
    { qname: 'example.org', qtype: 'CAA', answer: ['0 issue "letsencrypt.org"', '128 iodef "mailto:security@example.org"'] },
    { qname: 'host.example.org', qtype: 'SSHFP', answer: ['4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'] },
    { qname: '_443._tcp.www.example.org', qtype: 'TLSA', answer: ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'] },
    { qname: 'child.example.org', qtype: 'DS', answer: ['12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'] },
    { qname: 'sip.example.org', qtype: 'NAPTR', answer: ['100 10 "U" "E2U+sip" "!^.*$!sip:info@example.org!" .', '102 10 "S" "SIP+D2U" "" _sip._udp.example.org.'] },
    { qname: 'host.example.org', qtype: 'TLSA', answer: [] },
  ];
  for (const proto of ['+notcp', '+tcp']) {
    for (const r of rows) {
      const out = (await sh('dig', ['@127.0.0.1', '-p', String(served.port), proto, '+time=3', '+tries=1', '+nocmd', '+noall', '+comments', '+answer', r.qname, r.qtype])).toString();
      t.match(out, /status: NOERROR/, `${r.qname} ${r.qtype} ${proto}: NOERROR`);
      // The record data after owner, TTL, class and type; dig breaks long hex into blocks, joined back here.
      const answer = out.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).slice(4).join(' ').replace(/ (?=[0-9A-F]{8,}$)/g, ''));
      t.strictSame(answer.sort(), [...r.answer].sort(), `${r.qname} ${r.qtype} ${proto}: answer`);
    }
  }
});
