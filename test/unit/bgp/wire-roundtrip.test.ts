// What the encoder writes, the decoder reads back unchanged: OPEN with every
// capability, UPDATEs with every attribute in both AS widths, splitting at
// 4096 octets, withdrawals, End-of-RIB and the small messages.
import t from 'tap';
import { MessageFramer } from '../../../src/bgp/wire/header.ts';
import { decodeMessage, encodeKeepalive, encodeNotification, encodeRouteRefresh } from '../../../src/bgp/wire/messages.ts';
import { encodeOpen, type OpenMessage } from '../../../src/bgp/wire/open.ts';
import { encodeAnnouncement, encodeEndOfRib, encodeWithdrawal } from '../../../src/bgp/wire/update-encode.ts';
import type { PathAttributes } from '../../../src/bgp/wire/attributes.ts';

const decodeAll = (bufs: Buffer[], fourOctetAs = true) => {
  const framer = new MessageFramer();
  return bufs.flatMap((b) => framer.push(b)).map((f) => decodeMessage(f, { fourOctetAs }));
};

t.test('OPEN with every capability, 4-octet AS behind AS_TRANS', async (t) => {
  const open: OpenMessage = {
    asNumber: 4200000001,
    holdTime: 90,
    routerId: '10.0.0.7',
    capabilities: {
      multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
      routeRefresh: true,
      enhancedRouteRefresh: true,
      fourOctetAs: 4200000001,
      gracefulRestart: { restarting: true, time: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }] },
      other: [{ code: 73, value: Buffer.from('node-a') }],
    },
  };
  const bytes = encodeOpen(open);
  t.equal(bytes.readUInt16BE(20), 23456, 'My AS carries AS_TRANS');
  const [m] = decodeAll([bytes]);
  t.same(m, { type: 'open', open });
});

const attributes: PathAttributes = {
  origin: 2,
  asPath: [{ type: 2, asns: [64513, 4200000001] }, { type: 1, asns: [65001, 65002] }],
  med: 77,
  localPref: 200,
  atomicAggregate: true,
  aggregator: { asNumber: 64513, address: '10.0.0.9' },
  communities: [0xfde80064, 0xffffff01],
  originatorId: '10.0.0.3',
  clusterList: ['10.0.0.100', '10.0.0.101'],
};

t.test('an IPv4 announcement with every attribute between 4-octet speakers', async (t) => {
  const [m] = decodeAll(encodeAnnouncement({ family: 4, prefixes: ['10.244.1.0/26', '0.0.0.0/0', '10.1.2.3/32'], nextHop: ['192.0.2.1'], attributes }, { fourOctetAs: true }));
  t.equal(m.type, 'update');
  if (m.type !== 'update') return;
  t.same(m.update.announced[4], ['10.244.1.0/26', '0.0.0.0/0', '10.1.2.3/32']);
  t.same(m.update.nextHops[4], '192.0.2.1');
  t.same(m.update.attributes, { ...attributes, nextHop: '192.0.2.1' });
  t.same(m.update.discarded, []);
});

t.test('a 2-octet peer gets AS_TRANS and AS4_PATH, and the true path comes back (RFC 6793)', async (t) => {
  const bytes = encodeAnnouncement({ family: 4, prefixes: ['10.244.1.0/26'], nextHop: ['192.0.2.1'], attributes: { origin: 0, asPath: [{ type: 2, asns: [64513, 4200000001, 65010] }] } }, { fourOctetAs: false });
  const [m] = decodeAll(bytes, false);
  if (m.type !== 'update') throw new Error(m.type);
  t.same(m.update.attributes.asPath, [{ type: 2, asns: [64513, 4200000001, 65010] }]);
  t.ok(Buffer.concat(bytes).includes(Buffer.from([2, 3, 0xfc, 0x01, 0x5b, 0xa0])), 'AS_PATH carries AS_TRANS (23456) for the 4-octet AS');
});

t.test('3000 IPv4 prefixes split into messages of at most 4096 octets', async (t) => {
  const prefixes = Array.from({ length: 3000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
  const msgs = encodeAnnouncement({ family: 4, prefixes, nextHop: ['192.0.2.1'], attributes: { origin: 0, asPath: [] } }, { fourOctetAs: true });
  t.ok(msgs.length > 1, `${msgs.length} messages`);
  t.ok(msgs.every((m) => m.length <= 4096));
  const got = decodeAll(msgs).flatMap((m) => (m.type === 'update' ? m.update.announced[4] : []));
  t.same(got, prefixes);
  const w = encodeWithdrawal(4, prefixes);
  t.ok(w.every((m) => m.length <= 4096));
  t.same(decodeAll(w).flatMap((m) => (m.type === 'update' ? m.update.withdrawn[4] : [])), prefixes);
});

t.test('2000 IPv6 prefixes in MP_REACH with a link-local next hop, then withdrawn', async (t) => {
  const prefixes = Array.from({ length: 2000 }, (_, i) => `fd00:10:${(i + 1).toString(16)}::/64`);
  const msgs = encodeAnnouncement({ family: 6, prefixes, nextHop: ['fd00::1', 'fe80::1'], attributes: { origin: 0, asPath: [{ type: 2, asns: [64513] }] } }, { fourOctetAs: true });
  t.ok(msgs.length > 1 && msgs.every((m) => m.length <= 4096));
  const decoded = decodeAll(msgs);
  t.same(decoded.flatMap((m) => (m.type === 'update' ? m.update.announced[6] : [])), prefixes);
  t.same(decoded[0].type === 'update' && decoded[0].update.nextHops[6], ['fd00::1', 'fe80::1']);
  const w = decodeAll(encodeWithdrawal(6, prefixes));
  t.same(w.flatMap((m) => (m.type === 'update' ? m.update.withdrawn[6] : [])), prefixes);
});

t.test('End-of-RIB for both families', async (t) => {
  const [v4, v6] = decodeAll([encodeEndOfRib(4), encodeEndOfRib(6)]);
  t.equal(v4.type === 'update' && v4.update.endOfRib, 4);
  t.equal(v6.type === 'update' && v6.update.endOfRib, 6);
});

t.test('KEEPALIVE, NOTIFICATION and ROUTE-REFRESH', async (t) => {
  const got = decodeAll([encodeKeepalive(), encodeNotification({ code: 6, subcode: 2, data: Buffer.from('bye') }), encodeRouteRefresh({ afi: 2, safi: 1, subtype: 0 })]);
  t.same(got, [
    { type: 'keepalive' },
    { type: 'notification', notification: { code: 6, subcode: 2, data: Buffer.from('bye') } },
    { type: 'route-refresh', refresh: { afi: 2, safi: 1, subtype: 0 } },
  ]);
});

t.test('the framer gives the same messages whatever the TCP segmentation', async (t) => {
  const stream = Buffer.concat([encodeKeepalive(), ...encodeAnnouncement({ family: 4, prefixes: ['10.0.0.0/8'], nextHop: ['192.0.2.1'], attributes: { origin: 0, asPath: [] } }, { fourOctetAs: true }), encodeEndOfRib(6)]);
  const framer = new MessageFramer();
  const types: number[] = [];
  for (const byte of stream) types.push(...framer.push(Buffer.from([byte])).map((f) => f.type));
  t.same(types, [4, 2, 2]);
  t.equal(framer.buffered, 0);
});
