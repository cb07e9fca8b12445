// No byte sequence throws out of the decoder except as the NOTIFICATION the
// session must send: random and mutated messages, seeded so a failure replays.
// Most mutations keep the header consistent so the body parsers are reached.
import t from 'tap';
import { MessageFramer } from '../../../src/bgp/wire/header.ts';
import { decodeMessage, encodeKeepalive, encodeNotification, encodeRouteRefresh } from '../../../src/bgp/wire/messages.ts';
import { BgpNotificationError } from '../../../src/bgp/wire/notification-error.ts';
import { encodeOpen } from '../../../src/bgp/wire/open.ts';
import { encodeAnnouncement, encodeEndOfRib, encodeWithdrawal } from '../../../src/bgp/wire/update-encode.ts';
import { rng } from '../../helpers/fuzz.ts';

const attributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64513, 70000] }, { type: 1, asns: [1, 2] }],
  med: 5,
  localPref: 100,
  atomicAggregate: true,
  aggregator: { asNumber: 64513, address: '10.0.0.1' },
  communities: [1, 2],
  originatorId: '10.0.0.2',
  clusterList: ['10.0.0.3'],
  unknown: [{ flags: 0xc0, type: 200, value: Buffer.from([1, 2, 3]) }],
};

const seeds: Buffer[] = [
  encodeOpen({
    asNumber: 70000,
    holdTime: 90,
    routerId: '10.0.0.1',
    capabilities: {
      multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
      routeRefresh: true,
      enhancedRouteRefresh: false,
      fourOctetAs: 70000,
      gracefulRestart: { restarting: false, time: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
      other: [],
    },
  }),
  ...encodeAnnouncement({ family: 4, prefixes: ['10.244.1.0/26', '10.244.2.0/24', '192.168.0.0/16'], nextHop: ['192.0.2.1'], attributes }, { fourOctetAs: true }),
  ...encodeAnnouncement({ family: 6, prefixes: ['fd00:1::/64', 'fd00:2::/48'], nextHop: ['fd00::1', 'fe80::1'], attributes }, { fourOctetAs: true }),
  ...encodeAnnouncement({ family: 4, prefixes: ['10.9.0.0/16'], nextHop: ['192.0.2.1'], attributes }, { fourOctetAs: false }),
  ...encodeWithdrawal(4, ['10.244.1.0/26']),
  ...encodeWithdrawal(6, ['fd00:1::/64']),
  encodeEndOfRib(4),
  encodeEndOfRib(6),
  encodeKeepalive(),
  encodeNotification({ code: 3, subcode: 1, data: Buffer.from([1, 2, 3]) }),
  encodeRouteRefresh({ afi: 1, safi: 1, subtype: 0 }),
];

/** A seed with 1-6 body octets overwritten, cut, or grown, its length field fixed up; or noise; or a broken header. */
function mutated(r: () => number): Buffer {
  const pick = Math.floor(r() * 20);
  if (pick === 0) return Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
  const base = Buffer.from(seeds[Math.floor(r() * seeds.length)]);
  if (pick === 1) {
    base[16 + Math.floor(r() * 3)] = Math.floor(r() * 256);
    return base;
  }
  let body = base.subarray(19);
  if (pick < 5 && body.length) body = body.subarray(0, Math.floor(r() * body.length));
  else if (pick < 7) body = Buffer.concat([body, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)))]);
  const b = Buffer.concat([base.subarray(0, 19), body]);
  const flips = 1 + Math.floor(r() * 6);
  for (let i = 0; i < flips && b.length > 19; i++) b[19 + Math.floor(r() * (b.length - 19))] = Math.floor(r() * 256);
  b.writeUInt16BE(b.length, 16);
  return b;
}

t.test('200,000 mutated messages: decoded or a NOTIFICATION, never another throw', async (t) => {
  const r = rng(20261207);
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const problems: string[] = [];
  for (let i = 0; i < 200_000 && problems.length < 5; i++) {
    const bytes = mutated(r);
    const fourOctetAs = r() < 0.8;
    try {
      for (const frame of new MessageFramer().push(bytes)) {
        const m = decodeMessage(frame, { fourOctetAs });
        if (m.type === 'update' && m.update.treatAsWithdraw) count('update treat-as-withdraw');
        else if (m.type === 'update' && m.update.discarded.length) count('update attribute-discard');
        else count(m.type);
      }
    } catch (err) {
      if (err instanceof BgpNotificationError) {
        count(`notification ${err.bgpCode}/${err.subcode}`);
        if (err.bgpCode < 1 || err.bgpCode > 7 || err.data.length > 4096) problems.push(`message ${i}: bad NOTIFICATION fields ${err.message}`);
      } else problems.push(`message ${i} (${bytes.toString('hex')}) threw ${(err as Error).stack}`);
    }
  }
  t.same(problems, [], 'nothing but BgpNotificationError escapes');
  t.comment([...outcomes].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
  // The mutations must reach each kind of outcome, or this test proves little.
  for (const k of ['open', 'update', 'update treat-as-withdraw', 'update attribute-discard', 'keepalive', 'notification', 'route-refresh', 'notification 1/2', 'notification 2/0', 'notification 3/1', 'notification 3/9', 'notification 3/10']) {
    t.ok((outcomes.get(k) ?? 0) > 0, `reached: ${k}`);
  }
});
