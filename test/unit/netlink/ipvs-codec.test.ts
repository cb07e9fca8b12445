// The IPVS genl codec against hand-written bytes (include/uapi/linux/ip_vs.h):
// what netlet sends, byte for byte, and kernel-shaped dump answers decoded.
import t from 'tap';
import {
  SVC_F,
  decodeDest,
  decodeFamilyId,
  decodeService,
  decodeTimeouts,
  destKey,
  encodeDelDest,
  encodeDelService,
  encodeDumpDests,
  encodeGetFamily,
  encodeNewDest,
  encodeNewService,
  encodeSetTimeouts,
  schedulerFlags,
  serviceKey,
} from '../../../src/netlink/ipvs-codec.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const FAM = 0x1f; // the family id the controller handed out
const SEQ = 7;

t.test('GETFAMILY asks the controller for "IPVS"', async (t) => {
  t.same(
    encodeGetFamily(1),
    hex(`
      20000000 1000 0100 01000000 00000000   # len 32, type GENL_ID_CTRL, REQUEST, seq 1
      03 01 0000                              # CTRL_CMD_GETFAMILY, version 1
      0900 0200 49505653 00 000000            # CTRL_ATTR_FAMILY_NAME "IPVS\\0", padded
    `),
  );
  const answer = hex(`
    03 02 0000
    0900 0200 49505653 00 000000
    0600 0100 1f00 0000                       # CTRL_ATTR_FAMILY_ID 0x1f
  `);
  t.equal(decodeFamilyId(answer), 0x1f);
});

const svc = { family: 4 as const, protocol: 'tcp' as const, address: '10.102.128.4', port: 80, scheduler: 'rr', flags: 0, timeout: 0 };
const svcAttrsV4 = `
  0600 0100 0200 0000                         # AF AF_INET
  0600 0200 0600 0000                         # PROTOCOL tcp
  0800 0300 0a668004                          # ADDR 10.102.128.4
  0600 0400 0050 0000                         # PORT 80, network order
`;

t.test('NEW_SERVICE carries the identity and the four attributes NEW needs', async (t) => {
  const persistent = { ...svc, flags: SVC_F.PERSISTENT | SVC_F.HASHED, timeout: 10800 };
  t.same(
    encodeNewService(FAM, SEQ, persistent),
    hex(`
      5c000000 1f00 0500 07000000 00000000    # len 92, IPVS, REQUEST|ACK, seq 7
      01 01 0000                               # NEW_SERVICE, version 1
      4800 0180                                # SERVICE, nested (72)
      ${svcAttrsV4}
      0700 0600 727200 00                      # SCHED_NAME "rr\\0"
      0c00 0700 01000000 ffffffff              # FLAGS persistent (hashed never sent), mask all
      0800 0800 302a0000                       # TIMEOUT 10800
      0800 0900 ffffffff                       # NETMASK /32
    `),
  );
});

t.test('DEL_SERVICE names only the service', async (t) => {
  t.same(
    encodeDelService(FAM, SEQ, svc),
    hex(`
      38000000 1f00 0500 07000000 00000000
      03 01 0000
      2400 0180 ${svcAttrsV4}
    `),
  );
});

t.test('NEW_DEST: masquerading, weight, thresholds, address family', async (t) => {
  t.same(
    encodeNewDest(FAM, SEQ, svc, { address: '10.244.3.6', port: 9376, weight: 1 }),
    hex(`
      74000000 1f00 0500 07000000 00000000
      05 01 0000
      2400 0180 ${svcAttrsV4}
      3c00 0280                                # DEST, nested (60)
      0800 0100 0af40306                       # ADDR 10.244.3.6
      0600 0200 24a0 0000                      # PORT 9376
      0800 0300 00000000                       # FWD_METHOD masquerade
      0800 0400 01000000                       # WEIGHT 1
      0800 0500 00000000                       # U_THRESH
      0800 0600 00000000                       # L_THRESH
      0600 0b00 0200 0000                      # ADDR_FAMILY AF_INET
    `),
  );
  const del = encodeDelDest(FAM, SEQ, svc, { address: '10.244.3.6', port: 9376 });
  t.equal(del[16], 7, 'DEL_DEST');
  t.equal(del.length, 16 + 4 + 36 + 4 + 8 + 8 + 8, 'only the address, port and family');
});

t.test('a dest dump names its service and asks for a dump', async (t) => {
  const m = encodeDumpDests(FAM, SEQ, svc);
  t.equal(m.readUInt16LE(6), 0x301, 'REQUEST|DUMP');
  t.equal(m[16], 8, 'GET_DEST');
});

t.test('IPv6: 16-byte addresses, netmask as prefix length', async (t) => {
  const m = encodeNewService(FAM, SEQ, { ...svc, family: 6, address: 'fd00::a', port: 53, protocol: 'udp' });
  const text = m.toString('hex');
  t.match(text, '0600010000a00000'.replace('00a0', '0a00'), 'AF_INET6');
  t.match(text, '14000300fd00000000000000000000000000000a', 'ADDR fd00::a');
  t.match(text, '0800090080000000', 'NETMASK 128');
});

// A service as the kernel dumps it (ip_vs_genl_fill_service): the whole
// 16-byte nf_inet_addr, the hashed flag, stats we do not read.
const dumpedService = hex(`
  01 01 0000                                   # NEW_SERVICE (dumps use the NEW command)
  6000 0180
  0600 0100 0200 0000
  0600 0200 1100 0000                          # udp
  1400 0300 0a600000 00000000 00000000 00000000  # 10.96.0.0 in a 16-byte union
  0600 0400 0035 0000                          # port 53
  0700 0600 776c6300                           # "wlc" + \\0 (7 bytes + pad)
  0c00 0700 13000000 ffffffff                  # persistent|hashed|sched2
  0800 0800 100e0000                           # timeout 3600
  0800 0900 ffffffff
  0c00 0a80 0800 0100 05000000                 # STATS nested, ignored
`);

t.test('a dumped service decodes, HASHED dropped', async (t) => {
  t.same(decodeService(dumpedService), {
    family: 4,
    protocol: 'udp',
    address: '10.96.0.0',
    port: 53,
    scheduler: 'wlc',
    flags: SVC_F.PERSISTENT | SVC_F.SCHED2,
    timeout: 3600,
  });
});

t.test('a fwmark service is not one of netlet\'s', async (t) => {
  const fwmark = hex(`
    01 01 0000
    1c00 0180
    0600 0100 0200 0000
    0800 0500 01000000                         # FWMARK 1
    0700 0600 727200 00
  `);
  t.equal(decodeService(fwmark), undefined);
});

t.test('a dumped destination decodes with its connection counts', async (t) => {
  const dest = hex(`
    05 01 0000
    4800 0280
    1400 0100 0af40107 00000000 00000000 00000000  # 10.244.1.7
    0600 0200 24a0 0000
    0800 0300 00000000
    0800 0400 00000000                         # weight 0: draining
    0800 0700 02000000                         # ACTIVE_CONNS 2
    0800 0800 05000000                         # INACT_CONNS 5
    0600 0b00 0200 0000
  `);
  t.same(decodeDest(dest, 4), { address: '10.244.1.7', port: 9376, weight: 0, activeConns: 2, inactiveConns: 5 });
});

t.test('timeouts: 0 leaves the kernel\'s value, config read back', async (t) => {
  const m = encodeSetTimeouts(FAM, SEQ, { tcp: 900, tcpFin: 120, udp: 300 });
  t.equal(m[16], 12, 'SET_CONFIG');
  t.same(decodeTimeouts(m.subarray(16)), { tcp: 900, tcpFin: 120, udp: 300 });
});

t.test('keys and scheduler flags', async (t) => {
  t.equal(serviceKey(svc), 'tcp/10.102.128.4/80');
  t.equal(serviceKey({ ...svc, family: 6, address: 'fd00::1' }), 'tcp/[fd00::1]/80');
  t.equal(destKey({ address: 'fd00::2', port: 80 }), '[fd00::2]:80');
  t.equal(schedulerFlags('mh'), SVC_F.SCHED2, 'mh hashes the source port too');
  t.equal(schedulerFlags('rr'), 0);
});
