// Every malformed message the codec knows, row by row, with the RFC answer
// it must give: the NOTIFICATION code/subcode (and data where the RFC names
// it), or RFC 7606 treat-as-withdraw / attribute-discard with the rest kept.
import t from 'tap';
import { MessageFramer } from '../../../src/bgp/wire/header.ts';
import { decodeMessage } from '../../../src/bgp/wire/messages.ts';
import { BgpNotificationError } from '../../../src/bgp/wire/notification-error.ts';
import { asPath2, asPath4, attr, cap, msg, nextHop, NLRI_A, NLRI_B, openBody, ORIGIN_IGP, u32, updateBody } from './wire-builders.ts';

type Want =
  | { notify: [number, number]; data?: string }
  | { announced4?: string[]; announced6?: string[]; withdrawn4?: string[]; withdrawn6?: string[]; treatAsWithdraw?: RegExp; discarded?: number; endOfRib?: 4 | 6 };

interface Row {
  name: string;
  bytes: Buffer;
  want: Want;
  twoOctet?: boolean;
}

const good = [ORIGIN_IGP, asPath4(64513), nextHop(192, 0, 2, 1)];
const v6Reach = (nh: number[], nlri: number[]) => attr(0x90, 14, [0, 2, 1, nh.length, ...nh, 0, ...nlri]);
const V6_NH = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
const V6_NLRI = [64, 0xfd, 0, 0x10, 0x24, 0, 0, 0, 1];

const rows: Row[] = [
  // Header (RFC 4271 6.1).
  { name: 'a marker with a zero octet', bytes: (() => { const b = msg(4, []); b[3] = 0; return b; })(), want: { notify: [1, 1] } },
  { name: 'length under 19', bytes: msg(4, [], 18), want: { notify: [1, 2], data: '0012' } },
  { name: 'length over 4096', bytes: msg(4, [], 4097), want: { notify: [1, 2], data: '1001' } },
  { name: 'unknown type 9', bytes: msg(9, [0]), want: { notify: [1, 3], data: '09' } },
  { name: 'KEEPALIVE with a body', bytes: msg(4, [0]), want: { notify: [1, 2], data: '0014' } },
  { name: 'OPEN shorter than 29', bytes: msg(1, [4, 0, 1]), want: { notify: [1, 2] } },
  { name: 'UPDATE shorter than 23', bytes: msg(2, [0, 0]), want: { notify: [1, 2] } },
  { name: 'NOTIFICATION shorter than 21', bytes: msg(3, [6]), want: { notify: [1, 2] } },
  // OPEN (RFC 4271 6.2, RFC 5492, RFC 6793, RFC 7607).
  { name: 'OPEN version 3', bytes: msg(1, openBody({ version: 3 })), want: { notify: [2, 1], data: '0004' } },
  { name: 'OPEN hold time 2', bytes: msg(1, openBody({ hold: 2 })), want: { notify: [2, 6] } },
  { name: 'OPEN identifier 0.0.0.0', bytes: msg(1, openBody({ id: [0, 0, 0, 0] })), want: { notify: [2, 3] } },
  { name: 'OPEN AS 0', bytes: msg(1, openBody({ as: 0 })), want: { notify: [2, 2] } },
  { name: 'OPEN optional parameter type 1 (authentication)', bytes: msg(1, openBody({ params: [1, 1, 0] })), want: { notify: [2, 4] } },
  { name: 'OPEN parameters length past the message', bytes: msg(1, Buffer.concat([openBody(), Buffer.from([])]).fill(9, 9, 10)), want: { notify: [2, 0] } },
  { name: 'OPEN capability running past its parameter', bytes: msg(1, openBody({ params: [2, 3, 65, 4, 0] })), want: { notify: [2, 0] } },
  { name: 'OPEN multiprotocol capability of 3 octets', bytes: msg(1, openBody({ params: cap(1, [0, 1, 0]) })), want: { notify: [2, 0] } },
  { name: 'OPEN 4-octet AS capability disagreeing with My AS', bytes: msg(1, openBody({ as: 64512, params: cap(65, u32(65000)) })), want: { notify: [2, 2] } },
  { name: 'OPEN graceful restart capability of 3 octets', bytes: msg(1, openBody({ params: cap(64, [0, 120, 0]) })), want: { notify: [2, 0] } },
  // ROUTE-REFRESH (RFC 7313 5).
  { name: 'ROUTE-REFRESH of 5 body octets', bytes: msg(5, [0, 1, 0, 1, 0]), want: { notify: [7, 1] } },
  // UPDATE: session reset cases.
  { name: 'withdrawn length past the body', bytes: msg(2, [0, 9, 0, 0]), want: { notify: [3, 1] } },
  { name: 'total attribute length past the body', bytes: msg(2, [0, 0, 0, 9]), want: { notify: [3, 1] } },
  { name: 'an NLRI prefix of /33', bytes: msg(2, updateBody([], good, [33, 10, 0, 0, 0, 0])), want: { notify: [3, 10] } },
  { name: 'an NLRI prefix cut short', bytes: msg(2, updateBody([], good, [24, 10, 244])), want: { notify: [3, 10] } },
  { name: 'a withdrawn prefix of /40', bytes: msg(2, updateBody([40, 1, 2, 3, 4, 5], [], [])), want: { notify: [3, 10] } },
  { name: 'an unknown well-known attribute', bytes: msg(2, updateBody([], [...good, attr(0x40, 99, [1])], NLRI_A)), want: { notify: [3, 2], data: '406301' + '01' } },
  { name: 'MP_REACH_NLRI twice', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(), v6Reach(V6_NH, V6_NLRI), v6Reach(V6_NH, V6_NLRI)], [])), want: { notify: [3, 1] } },
  { name: 'MP_REACH_NLRI with an IPv6 next hop of 8 octets', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(), v6Reach(V6_NH.slice(0, 8), V6_NLRI)], [])), want: { notify: [3, 9] } },
  { name: 'MP_REACH_NLRI of 3 octets', bytes: msg(2, updateBody([], [attr(0x80, 14, [0, 2, 1])], [])), want: { notify: [3, 9] } },
  { name: 'MP_REACH_NLRI with a /129', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(), v6Reach(V6_NH, [129, ...new Array(17).fill(0)])], [])), want: { notify: [3, 9] } },
  { name: 'MP_UNREACH_NLRI of 2 octets', bytes: msg(2, updateBody([], [attr(0x80, 15, [0, 2])], [])), want: { notify: [3, 9] } },
  { name: 'MP_REACH_NLRI marked transitive', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(), attr(0xc0, 14, [0, 2, 1, 16, ...V6_NH, 0, ...V6_NLRI])], [])), want: { notify: [3, 4] } },
  { name: 'an attribute overrun with nothing locatable (no NLRI, no MP)', bytes: msg(2, updateBody([], [Buffer.from([0x40, 1, 9, 0])], [])), want: { notify: [3, 1] } },
  // UPDATE: treat-as-withdraw (RFC 7606 7.x).
  { name: 'ORIGIN value 3', bytes: msg(2, updateBody([], [attr(0x40, 1, [3]), asPath4(1), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /ORIGIN value 3/ } },
  { name: 'ORIGIN of 2 octets', bytes: msg(2, updateBody([], [attr(0x40, 1, [0, 0]), asPath4(1), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /ORIGIN of 2/ } },
  { name: 'ORIGIN marked optional', bytes: msg(2, updateBody([], [attr(0xc0, 1, [0]), asPath4(1), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /flags 0xc0/ } },
  { name: 'AS_PATH segment type 7', bytes: msg(2, updateBody([], [ORIGIN_IGP, attr(0x40, 2, [7, 1, ...u32(1)]), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /segment type 7/ } },
  { name: 'AS_PATH segment overrun', bytes: msg(2, updateBody([], [ORIGIN_IGP, attr(0x40, 2, [2, 3, ...u32(1)]), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /overruns/ } },
  { name: 'AS_PATH empty segment', bytes: msg(2, updateBody([], [ORIGIN_IGP, attr(0x40, 2, [2, 0]), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /empty segment/ } },
  { name: '2-octet AS_PATH read as 4-octet is malformed', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath2(1, 2, 3), nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /AS_PATH/ } },
  { name: 'NEXT_HOP of 3 octets', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(1), attr(0x40, 3, [1, 2, 3])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /NEXT_HOP of 3/ } },
  { name: 'NEXT_HOP 0.0.0.0', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(1), nextHop(0, 0, 0, 0)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /not a unicast/ } },
  { name: 'NEXT_HOP multicast', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(1), nextHop(224, 0, 0, 5)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /not a unicast/ } },
  { name: 'MED of 2 octets', bytes: msg(2, updateBody([], [...good, attr(0x80, 4, [0, 1])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /MULTI_EXIT_DISC/ } },
  { name: 'LOCAL_PREF of 5 octets', bytes: msg(2, updateBody([], [...good, attr(0x40, 5, [0, 0, 0, 0, 1])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /LOCAL_PREF/ } },
  { name: 'COMMUNITIES of 6 octets', bytes: msg(2, updateBody([], [...good, attr(0xc0, 8, [0, 0, 0, 1, 0, 0])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /COMMUNITIES/ } },
  { name: 'ORIGINATOR_ID of 2 octets', bytes: msg(2, updateBody([], [...good, attr(0x80, 9, [1, 2])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /ORIGINATOR_ID/ } },
  { name: 'CLUSTER_LIST of 0 octets', bytes: msg(2, updateBody([], [...good, attr(0x80, 10, [])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /CLUSTER_LIST/ } },
  { name: 'missing NEXT_HOP', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /missing NEXT_HOP/ } },
  { name: 'missing ORIGIN and AS_PATH', bytes: msg(2, updateBody([], [nextHop(192, 0, 2, 1)], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /missing ORIGIN, AS_PATH/ } },
  { name: 'an attribute overrunning the list, NLRI still located', bytes: msg(2, updateBody([], [...good, Buffer.from([0x80, 4, 200, 0])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /overruns/ } },
  { name: 'two stray octets after the last attribute', bytes: msg(2, updateBody([], [...good, Buffer.from([0x80, 4])], NLRI_A)), want: { withdrawn4: ['10.244.1.0/26'], treatAsWithdraw: /stray/ } },
  { name: 'a bad ORIGIN beside IPv6 MP_REACH withdraws the IPv6 prefix', bytes: msg(2, updateBody([], [attr(0x40, 1, [5]), asPath4(), v6Reach(V6_NH, V6_NLRI)], [])), want: { withdrawn6: ['fd00:1024:0:1::/64'], treatAsWithdraw: /ORIGIN/ } },
  // UPDATE: attribute-discard (RFC 7606 7.6, 7.7, 3 g) and ignoring.
  { name: 'ATOMIC_AGGREGATE of 1 octet is discarded', bytes: msg(2, updateBody([], [...good, attr(0x40, 6, [1])], NLRI_A)), want: { announced4: ['10.244.1.0/26'], discarded: 1 } },
  { name: 'AGGREGATOR of 5 octets is discarded', bytes: msg(2, updateBody([], [...good, attr(0xc0, 7, [0, 1, 2, 3, 4])], NLRI_A)), want: { announced4: ['10.244.1.0/26'], discarded: 1 } },
  { name: 'a repeated MED keeps the first', bytes: msg(2, updateBody([], [...good, attr(0x80, 4, u32(5)), attr(0x80, 4, u32(6))], NLRI_A)), want: { announced4: ['10.244.1.0/26'], discarded: 1 } },
  { name: 'an unknown optional non-transitive attribute is ignored', bytes: msg(2, updateBody([], [...good, attr(0x80, 200, [1, 2])], NLRI_A)), want: { announced4: ['10.244.1.0/26'], discarded: 0 } },
  { name: 'a malformed AS4_PATH from a 2-octet peer is discarded', twoOctet: true, bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath2(23456), nextHop(192, 0, 2, 1), attr(0xc0, 17, [2, 2, 0, 0])], NLRI_A)), want: { announced4: ['10.244.1.0/26'], discarded: 1 } },
  { name: 'MP_REACH for an unknown family is ignored, IPv4 NLRI kept', bytes: msg(2, updateBody([], [...good, attr(0x80, 14, [0, 25, 65, 4, 1, 2, 3, 4, 0])], NLRI_A)), want: { announced4: ['10.244.1.0/26'] } },
  // Good messages.
  { name: 'a plain IPv4 announcement with a withdrawal', bytes: msg(2, updateBody(NLRI_B, good, NLRI_A)), want: { announced4: ['10.244.1.0/26'], withdrawn4: ['10.244.2.0/24'] } },
  { name: 'host bits in a prefix are cleared', bytes: msg(2, updateBody([], good, [22, 10, 244, 7])), want: { announced4: ['10.244.4.0/22'] } },
  { name: 'a withdrawal needs no attributes', bytes: msg(2, updateBody(NLRI_A, [], [])), want: { withdrawn4: ['10.244.1.0/26'] } },
  { name: 'IPv4 End-of-RIB', bytes: msg(2, [0, 0, 0, 0]), want: { endOfRib: 4 } },
  { name: 'IPv6 End-of-RIB', bytes: msg(2, updateBody([], [attr(0x80, 15, [0, 2, 1])], [])), want: { endOfRib: 6 } },
  { name: 'IPv6 MP_UNREACH withdrawal', bytes: msg(2, updateBody([], [attr(0x80, 15, [0, 2, 1, ...V6_NLRI])], [])), want: { withdrawn6: ['fd00:1024:0:1::/64'] } },
  { name: 'IPv6 announcement', bytes: msg(2, updateBody([], [ORIGIN_IGP, asPath4(), v6Reach(V6_NH, V6_NLRI)], [])), want: { announced6: ['fd00:1024:0:1::/64'] } },
];

function decode(bytes: Buffer, twoOctet = false) {
  const frames = new MessageFramer().push(bytes);
  if (frames.length !== 1) throw new Error(`${frames.length} frames`);
  return decodeMessage(frames[0], { fourOctetAs: !twoOctet });
}

for (const row of rows) {
  t.test(row.name, async (t) => {
    let got;
    try {
      got = decode(row.bytes, row.twoOctet);
    } catch (err) {
      if (!(err instanceof BgpNotificationError)) throw err;
      t.ok('notify' in row.want, `no NOTIFICATION expected, got ${err.message}`);
      if (!('notify' in row.want)) return;
      t.same([err.bgpCode, err.subcode], row.want.notify, err.message);
      if (row.want.data !== undefined) t.equal(err.data.toString('hex'), row.want.data, 'the data field');
      return;
    }
    if ('notify' in row.want) {
      t.fail(`expected NOTIFICATION ${row.want.notify.join('/')}, decoded ${got.type}`);
      return;
    }
    t.equal(got.type, 'update');
    if (got.type !== 'update') return;
    const u = got.update;
    const w = row.want;
    t.same(u.announced[4], w.announced4 ?? [], 'IPv4 announced');
    t.same(u.announced[6], w.announced6 ?? [], 'IPv6 announced');
    t.same(u.withdrawn[4], w.withdrawn4 ?? [], 'IPv4 withdrawn');
    t.same(u.withdrawn[6], w.withdrawn6 ?? [], 'IPv6 withdrawn');
    if (w.treatAsWithdraw) t.match(u.treatAsWithdraw ?? '', w.treatAsWithdraw, 'treat-as-withdraw reason');
    else t.equal(u.treatAsWithdraw, undefined, 'not treated as withdraw');
    if (w.discarded !== undefined) t.equal(u.discarded.length, w.discarded, `discarded: ${u.discarded.join('; ')}`);
    t.equal(u.endOfRib, w.endOfRib, 'End-of-RIB');
  });
}
