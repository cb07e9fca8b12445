import t from 'tap';
import { CidrError, cidrsOverlap, formatCidr, formatIp, parseCidr, parseIp, subnetAt, subnetCount } from '../../../src/ipam/cidr.ts';

t.test('addresses round-trip to their canonical text', async (t) => {
  const rows: Array<{ name: string; input: string; canonical: string }> = [
    { name: 'IPv4', input: '10.244.1.5', canonical: '10.244.1.5' },
    { name: 'IPv4 zero', input: '0.0.0.0', canonical: '0.0.0.0' },
    { name: 'IPv4 max', input: '255.255.255.255', canonical: '255.255.255.255' },
    { name: 'IPv6 full form is compressed', input: 'fd00:0:0:0:0:0:0:1', canonical: 'fd00::1' },
    { name: 'IPv6 upper case is lowered', input: 'FD00:10:244::A', canonical: 'fd00:10:244::a' },
    { name: 'IPv6 longest zero run wins', input: '1:0:0:2:0:0:0:3', canonical: '1:0:0:2::3' },
    { name: 'IPv6 first run wins a tie', input: '1:0:0:2:0:0:3:4', canonical: '1::2:0:0:3:4' },
    { name: 'IPv6 single zero group is not compressed', input: '1:0:2:3:4:5:6:7', canonical: '1:0:2:3:4:5:6:7' },
    { name: 'IPv6 all zero', input: '::', canonical: '::' },
    { name: 'IPv6 embedded IPv4', input: '::ffff:10.1.2.3', canonical: '::ffff:a01:203' },
  ];
  for (const r of rows) {
    const { family, value } = parseIp(r.input);
    t.equal(formatIp(family, value), r.canonical, r.name);
  }
});

t.test('CIDRs parse strictly and name the problem', async (t) => {
  t.same(formatCidr(parseCidr('10.244.0.0/16')), '10.244.0.0/16', 'IPv4 CIDR');
  t.same(formatCidr(parseCidr('fd00:10:244::/56')), 'fd00:10:244::/56', 'IPv6 CIDR');
  const bad: Array<{ name: string; input: string; match: RegExp }> = [
    { name: 'no prefix', input: '10.0.0.0', match: /no "\/prefix"/ },
    { name: 'prefix too long', input: '10.0.0.0/33', match: /invalid prefix/ },
    { name: 'prefix not a number', input: '10.0.0.0/x', match: /invalid prefix/ },
    { name: 'host bits set', input: '10.244.1.0/15', match: /did you mean 10\.244\.0\.0\/15/ },
    { name: 'not an address', input: '10.0.0/8', match: /not an IP address/ },
  ];
  for (const r of bad) t.throws(() => parseCidr(r.input), { constructor: CidrError, message: r.match }, r.name);
});

t.test('subnets and overlap', async (t) => {
  const pool = parseCidr('10.244.0.0/16');
  t.equal(subnetCount(pool, 26), 1024n, '1024 /26 blocks in a /16');
  t.equal(formatCidr(subnetAt(pool, 26, 0n)), '10.244.0.0/26', 'first block');
  t.equal(formatCidr(subnetAt(pool, 26, 5n)), '10.244.1.64/26', 'sixth block');
  const v6 = parseCidr('fd00::/120');
  t.equal(formatCidr(subnetAt(v6, 122, 3n)), 'fd00::c0/122', 'IPv6 block');
  t.ok(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.244.0.0/16')), 'nested overlap');
  t.notOk(cidrsOverlap(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16')), 'disjoint');
  t.notOk(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('::/0')), 'different families never overlap');
});
