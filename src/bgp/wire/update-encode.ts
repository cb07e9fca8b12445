// Writing UPDATEs: announcements (IPv4 in the classic NLRI field with
// NEXT_HOP, IPv6 in MP_REACH_NLRI), withdrawals and End-of-RIB, each split
// into as many messages as the 4096-octet limit needs.

import type { Family } from '../../base/family.ts';
import { Afi, AS_TRANS, AttrFlag, AttrType, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType, Safi, SegmentType } from './constants.ts';
import type { AsPathSegment, PathAttributes } from './attributes.ts';
import { frameMessage } from './header.ts';
import { encodeAddress, encodePrefix } from './prefix.ts';

const BODY_ROOM = MAX_MESSAGE_LENGTH - HEADER_LENGTH;

export interface Announcement {
  family: Family;
  prefixes: string[];
  /** IPv4: one address; IPv6: the global address, then optionally the link-local one. */
  nextHop: string[];
  attributes: PathAttributes;
}

function attribute(flags: number, type: number, value: Buffer): Buffer {
  const extended = value.length > 255;
  const head = Buffer.alloc(extended ? 4 : 3);
  head[0] = extended ? flags | AttrFlag.EXTENDED_LENGTH : flags & ~AttrFlag.EXTENDED_LENGTH;
  head[1] = type;
  if (extended) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

/** Segments as they go on the wire; a segment holds at most 255 AS numbers, so long ones are split. */
export function encodeAsPath(path: readonly AsPathSegment[], size: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const s of path) {
    for (let i = 0; i < s.asns.length || (i === 0 && s.asns.length === 0); i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      if (!chunk.length) break;
      const b = Buffer.alloc(2 + size * chunk.length);
      b[0] = s.type;
      b[1] = chunk.length;
      chunk.forEach((asn, j) => (size === 4 ? b.writeUInt32BE(asn >>> 0, 2 + 4 * j) : b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + 2 * j)));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

/** Every attribute but NEXT_HOP and MP_*, in type order (RFC 4271 5 asks senders to order them). */
function commonAttributes(a: PathAttributes, fourOctetAs: boolean): Buffer[] {
  const out: Buffer[] = [];
  const wk = AttrFlag.TRANSITIVE;
  const opt = AttrFlag.OPTIONAL;
  const optTrans = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
  out.push(attribute(wk, AttrType.ORIGIN, Buffer.from([a.origin ?? 0])));
  const path = a.asPath ?? [];
  out.push(attribute(wk, AttrType.AS_PATH, encodeAsPath(path, fourOctetAs ? 4 : 2)));
  if (a.med !== undefined) out.push(attribute(opt, AttrType.MULTI_EXIT_DISC, u32(a.med)));
  if (a.localPref !== undefined) out.push(attribute(wk, AttrType.LOCAL_PREF, u32(a.localPref)));
  if (a.atomicAggregate) out.push(attribute(wk, AttrType.ATOMIC_AGGREGATE, Buffer.alloc(0)));
  if (a.aggregator) {
    const asn = a.aggregator.asNumber;
    const v = fourOctetAs ? Buffer.concat([u32(asn), encodeAddress(4, a.aggregator.address)]) : Buffer.concat([Buffer.from([0, 0]), encodeAddress(4, a.aggregator.address)]);
    if (!fourOctetAs) v.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 0);
    out.push(attribute(optTrans, AttrType.AGGREGATOR, v));
  }
  if (a.communities?.length) out.push(attribute(optTrans, AttrType.COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  if (a.originatorId) out.push(attribute(opt, AttrType.ORIGINATOR_ID, encodeAddress(4, a.originatorId)));
  if (a.clusterList?.length) out.push(attribute(opt, AttrType.CLUSTER_LIST, Buffer.concat(a.clusterList.map((id) => encodeAddress(4, id)))));
  // RFC 6793 4.2.2: a 2-octet peer gets AS_TRANS in AS_PATH and the true path in AS4_PATH.
  if (!fourOctetAs && path.some((s) => s.asns.some((asn) => asn > 0xffff))) {
    const as4 = path.filter((s) => s.type === SegmentType.AS_SEQUENCE || s.type === SegmentType.AS_SET);
    out.push(attribute(optTrans, AttrType.AS4_PATH, encodeAsPath(as4, 4)));
  }
  for (const u of a.unknown ?? []) out.push(attribute(u.flags, u.type, u.value));
  return out;
}

/** Packs encoded prefixes into groups of at most `room` octets. */
function pack(prefixes: readonly string[], room: number): Buffer[] {
  if (room < 17) throw new RangeError('the attributes leave no room for a prefix in a 4096-octet UPDATE');
  const groups: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const p of prefixes) {
    const b = encodePrefix(p);
    if (size + b.length > room) {
      groups.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(b);
    size += b.length;
  }
  if (current.length) groups.push(Buffer.concat(current));
  return groups;
}

function updateBody(withdrawn: Buffer, attrs: Buffer, nlri: Buffer): Buffer {
  const body = Buffer.alloc(4 + withdrawn.length + attrs.length + nlri.length);
  body.writeUInt16BE(withdrawn.length, 0);
  withdrawn.copy(body, 2);
  body.writeUInt16BE(attrs.length, 2 + withdrawn.length);
  attrs.copy(body, 4 + withdrawn.length);
  nlri.copy(body, 4 + withdrawn.length + attrs.length);
  return frameMessage(MessageType.UPDATE, body);
}

function mpHeader(family: Family): Buffer {
  const b = Buffer.alloc(3);
  b.writeUInt16BE(family === 4 ? Afi.IPV4 : Afi.IPV6, 0);
  b[2] = Safi.UNICAST;
  return b;
}

/** UPDATE messages announcing the prefixes with these attributes. */
export function encodeAnnouncement(a: Announcement, ctx: { fourOctetAs: boolean }): Buffer[] {
  const common = Buffer.concat(commonAttributes(a.attributes, ctx.fourOctetAs));
  if (a.family === 4) {
    const attrs = Buffer.concat([common, attribute(AttrFlag.TRANSITIVE, AttrType.NEXT_HOP, encodeAddress(4, a.nextHop[0]))]);
    return pack(a.prefixes, BODY_ROOM - 4 - attrs.length).map((nlri) => updateBody(Buffer.alloc(0), attrs, nlri));
  }
  const nh = Buffer.concat(a.nextHop.slice(0, 2).map((h) => encodeAddress(6, h)));
  const mpFixed = Buffer.concat([mpHeader(6), Buffer.from([nh.length]), nh, Buffer.from([0])]);
  // 4 octets of MP_REACH header (extended length) on top of the fixed part.
  const room = BODY_ROOM - 4 - common.length - 4 - mpFixed.length;
  return pack(a.prefixes, room).map((nlri) =>
    updateBody(Buffer.alloc(0), Buffer.concat([attribute(AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, Buffer.concat([mpFixed, nlri])), common]), Buffer.alloc(0)),
  );
}

/** UPDATE messages withdrawing the prefixes. */
export function encodeWithdrawal(family: Family, prefixes: readonly string[]): Buffer[] {
  if (family === 4) return pack(prefixes, BODY_ROOM - 4).map((w) => updateBody(w, Buffer.alloc(0), Buffer.alloc(0)));
  return pack(prefixes, BODY_ROOM - 4 - 4 - 3).map((w) =>
    updateBody(Buffer.alloc(0), attribute(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, Buffer.concat([mpHeader(6), w])), Buffer.alloc(0)),
  );
}

/** RFC 4724 2: an empty UPDATE (IPv4) or an empty MP_UNREACH_NLRI (other families). */
export function encodeEndOfRib(family: Family): Buffer {
  if (family === 4) return updateBody(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0));
  return updateBody(Buffer.alloc(0), attribute(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, mpHeader(6)), Buffer.alloc(0));
}
