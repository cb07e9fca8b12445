import t from 'tap';
import { parseDestination } from '../../../src/agent/commands/trace.ts';
import { parseRule, words } from '../../../src/iptables/trace/parse.ts';

t.test('DST:PORT[/proto]', async (t) => {
  const rows: [string, string, unknown][] = [
    ['IPv4, default tcp', '10.96.0.10:80', { dst: '10.96.0.10', port: 80, proto: 'tcp' }],
    ['IPv4 udp', '10.96.0.10:53/udp', { dst: '10.96.0.10', port: 53, proto: 'udp' }],
    ['IPv6 in brackets', '[fd00::10]:443/TCP', { dst: 'fd00::10', port: 443, proto: 'tcp' }],
  ];
  for (const [name, spec, want] of rows) t.same(parseDestination(spec), want, name);
  const bad: [string, string, RegExp][] = [
    ['no port', '10.96.0.10', /ADDRESS:PORT/],
    ['not an address', 'web:80', /not an IP address/],
    ['port out of range', '10.0.0.1:70000', /out of range/],
    ['unknown protocol', '10.0.0.1:80/icmp', /ADDRESS:PORT/],
  ];
  for (const [name, spec, msg] of bad) t.throws(() => parseDestination(spec), { code: 'ERR_USAGE', message: msg }, name);
});

t.test('iptables-save rule parsing', async (t) => {
  t.same(words('-A X -m comment --comment "a b \\"c\\"" -j Y'), ['-A', 'X', '-m', 'comment', '--comment', 'a b "c"', '-j', 'Y']);
  const r = parseRule('-A KUBE-SVC-X ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "ns/a:p cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ');
  t.same(r.conds, [
    { kind: 'src', cidr: '10.244.0.0/16', negated: true },
    { kind: 'dst', cidr: '10.96.0.10/32', negated: false },
    { kind: 'proto', proto: 'tcp', negated: false },
    { kind: 'dport', ports: [[80, 80]], negated: false },
  ]);
  t.equal(r.comment, 'ns/a:p cluster IP');
  t.same(r.target, { kind: 'jump', chain: 'KUBE-MARK-MASQ' });
  t.same(parseRule('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000').target, { kind: 'MARK', value: 0x4000, mask: 0x4000, op: 'xset' });
  t.same(parseRule('-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination [fd00::1]:80').target, { kind: 'DNAT', to: '[fd00::1]:80' });
  t.same(parseRule('-A X -i eth0 -j ACCEPT').conds, [{ kind: 'unknown', text: '-i eth0' }], 'unmodelled matches are kept as unknown');
});
