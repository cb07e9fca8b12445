// The route messages of a batch (RTM_NEWROUTE / RTM_DELROUTE), byte for byte.
import t from 'tap';
import { encodeRouteMessage } from '../../../src/netlink/route-message.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');

t.test('add 10.1.2.0/24 via 10.0.0.2, protocol bgp, metric 0', async (t) => {
  t.same(
    encodeRouteMessage('add', 9, { dst: '10.1.2.0/24', gateway: '10.0.0.2', protocol: 186, priority: 0 }),
    hex(`
      3c000000 1800 0506 09000000 00000000   # len 60, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 9
      02 18 00 00 fe ba 00 01 00000000       # AF_INET, /24, table main, proto 186, scope universe, unicast, flags
      0800 0f00 fe000000                     # RTA_TABLE 254
      0800 0100 0a010200                     # RTA_DST
      0800 0500 0a000002                     # RTA_GATEWAY
      0800 0600 00000000                     # RTA_PRIORITY 0
    `),
  );
});

t.test('a delete matches any protocol unless named, at scope nowhere, with no create flags', async (t) => {
  const del = encodeRouteMessage('delete', 2, { dst: '10.1.2.7/24', type: 'blackhole' });
  t.equal(del.readUInt16LE(4), 25, 'RTM_DELROUTE');
  t.equal(del.readUInt16LE(6), 0x5, 'REQUEST|ACK');
  t.same([...del.subarray(16, 24)], [2, 24, 0, 0, 254, 0, 255, 6], 'proto 0, scope nowhere, blackhole');
  t.match(del.toString('hex'), /080001000a010200/, 'host bits cleared');
});

t.test('onlink in rtm_flags; ECMP as RTA_MULTIPATH; IPv6', async (t) => {
  const onlink = encodeRouteMessage('add', 1, { dst: '10.1.0.0/26', gateway: '192.168.1.2', oif: 5, onlink: true });
  t.equal(onlink.readUInt32LE(24), 4, 'RTNH_F_ONLINK');
  t.match(onlink.toString('hex'), /0800040005000000/, 'RTA_OIF 5');
  const ecmp = encodeRouteMessage('add', 1, { dst: '10.1.0.0/26', multipath: [{ gateway: '10.0.0.2' }, { gateway: '10.0.0.3' }] });
  t.equal(ecmp[22], 0, 'scope universe without a single gateway');
  t.match(ecmp.toString('hex'), /0900/, 'RTA_MULTIPATH');
  const v6 = encodeRouteMessage('add', 1, { dst: 'fd00:1::/64', gateway: 'fd00::2' });
  t.equal(v6[16], 10, 'AF_INET6');
  t.equal(v6[17], 64);
});
