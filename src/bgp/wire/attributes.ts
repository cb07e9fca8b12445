// The path attributes netlet reads and writes (RFC 4271 4.3 and 5, RFC 1997
// communities, RFC 4456 ORIGINATOR_ID/CLUSTER_LIST, RFC 6793 AS4_*), and
// how each one's malformation is handled under RFC 7606: treat-as-withdraw,
// attribute-discard, or session reset with a NOTIFICATION.

import { AttrFlag, AttrType, AS_TRANS, SegmentType } from './constants.ts';
import { decodeAddress } from './prefix.ts';

export interface AsPathSegment {
  /** SegmentType: AS_SET 1, AS_SEQUENCE 2, AS_CONFED_SEQUENCE 3, AS_CONFED_SET 4. */
  type: number;
  asns: number[];
}

/** An attribute netlet does not interpret, kept whole to pass on when it is optional transitive. */
export interface RawAttribute {
  flags: number;
  type: number;
  value: Buffer;
}

export interface PathAttributes {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asNumber: number; address: string };
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  unknown?: RawAttribute[];
}

/** What one malformed attribute costs under RFC 7606 2. */
export type AttributeVerdict = { action: 'ok' } | { action: 'treat-as-withdraw' | 'discard'; reason: string };

const OK: AttributeVerdict = { action: 'ok' };
const withdraw = (reason: string): AttributeVerdict => ({ action: 'treat-as-withdraw', reason });
const discard = (reason: string): AttributeVerdict => ({ action: 'discard', reason });

const WELL_KNOWN = new Set<number>([AttrType.ORIGIN, AttrType.AS_PATH, AttrType.NEXT_HOP, AttrType.LOCAL_PREF, AttrType.ATOMIC_AGGREGATE]);
const OPTIONAL_TRANSITIVE = new Set<number>([AttrType.AGGREGATOR, AttrType.COMMUNITIES, AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR]);
const OPTIONAL_NON_TRANSITIVE = new Set<number>([AttrType.MULTI_EXIT_DISC, AttrType.ORIGINATOR_ID, AttrType.CLUSTER_LIST, AttrType.MP_REACH_NLRI, AttrType.MP_UNREACH_NLRI]);

export const isKnownAttribute = (type: number): boolean => WELL_KNOWN.has(type) || OPTIONAL_TRANSITIVE.has(type) || OPTIONAL_NON_TRANSITIVE.has(type);

/** The Optional and Transitive bits each known attribute must carry (RFC 4271 5, RFC 4760 3-4). */
export function flagsConflict(type: number, flags: number): boolean {
  const optional = (flags & AttrFlag.OPTIONAL) !== 0;
  const transitive = (flags & AttrFlag.TRANSITIVE) !== 0;
  if (WELL_KNOWN.has(type)) return optional || !transitive;
  if (OPTIONAL_TRANSITIVE.has(type)) return !optional || !transitive;
  if (OPTIONAL_NON_TRANSITIVE.has(type)) return !optional || transitive;
  return false;
}

/**
 * Reads one known attribute other than MP_REACH/MP_UNREACH into `into`.
 * Never throws: a bad value yields the RFC 7606 verdict for that attribute.
 */
export function readAttribute(type: number, v: Buffer, fourOctetAs: boolean, into: PathAttributes, extra: { as4Path?: AsPathSegment[]; as4Aggregator?: number }): AttributeVerdict {
  switch (type) {
    case AttrType.ORIGIN:
      // RFC 7606 7.1.
      if (v.length !== 1) return withdraw(`ORIGIN of ${v.length} octets`);
      if (v[0] > 2) return withdraw(`ORIGIN value ${v[0]}`);
      into.origin = v[0];
      return OK;
    case AttrType.AS_PATH: {
      // RFC 7606 7.2.
      const path = readAsPath(v, fourOctetAs ? 4 : 2);
      if (typeof path === 'string') return withdraw(`AS_PATH: ${path}`);
      into.asPath = path;
      return OK;
    }
    case AttrType.NEXT_HOP: {
      // RFC 7606 7.3; RFC 4271 6.3 names the addresses that are never a next hop.
      if (v.length !== 4) return withdraw(`NEXT_HOP of ${v.length} octets`);
      if (v[0] === 0 || v[0] >= 224) return withdraw(`NEXT_HOP ${decodeAddress(v, 0, 4)} is not a unicast address`);
      into.nextHop = decodeAddress(v, 0, 4);
      return OK;
    }
    case AttrType.MULTI_EXIT_DISC:
      if (v.length !== 4) return withdraw(`MULTI_EXIT_DISC of ${v.length} octets`);
      into.med = v.readUInt32BE(0);
      return OK;
    case AttrType.LOCAL_PREF:
      if (v.length !== 4) return withdraw(`LOCAL_PREF of ${v.length} octets`);
      into.localPref = v.readUInt32BE(0);
      return OK;
    case AttrType.ATOMIC_AGGREGATE:
      // RFC 7606 7.6.
      if (v.length !== 0) return discard(`ATOMIC_AGGREGATE of ${v.length} octets`);
      into.atomicAggregate = true;
      return OK;
    case AttrType.AGGREGATOR: {
      // RFC 7606 7.7.
      const size = fourOctetAs ? 8 : 6;
      if (v.length !== size) return discard(`AGGREGATOR of ${v.length} octets (want ${size})`);
      into.aggregator = { asNumber: fourOctetAs ? v.readUInt32BE(0) : v.readUInt16BE(0), address: decodeAddress(v, size - 4, 4) };
      return OK;
    }
    case AttrType.COMMUNITIES: {
      // RFC 7606 7.8.
      if (v.length === 0 || v.length % 4 !== 0) return withdraw(`COMMUNITIES of ${v.length} octets`);
      const list: number[] = [];
      for (let i = 0; i < v.length; i += 4) list.push(v.readUInt32BE(i));
      into.communities = list;
      return OK;
    }
    case AttrType.ORIGINATOR_ID:
      // RFC 7606 7.9.
      if (v.length !== 4) return withdraw(`ORIGINATOR_ID of ${v.length} octets`);
      into.originatorId = decodeAddress(v, 0, 4);
      return OK;
    case AttrType.CLUSTER_LIST: {
      // RFC 7606 7.10.
      if (v.length === 0 || v.length % 4 !== 0) return withdraw(`CLUSTER_LIST of ${v.length} octets`);
      const ids: string[] = [];
      for (let i = 0; i < v.length; i += 4) ids.push(decodeAddress(v, i, 4));
      into.clusterList = ids;
      return OK;
    }
    case AttrType.AS4_PATH: {
      // RFC 6793 4.1: between two 4-octet speakers AS4_PATH is meaningless and dropped; malformed, it is discarded (RFC 6793 7).
      if (fourOctetAs) return OK;
      const path = readAsPath(v, 4);
      if (typeof path === 'string') return discard(`AS4_PATH: ${path}`);
      if (path.some((s) => s.type === SegmentType.AS_CONFED_SEQUENCE || s.type === SegmentType.AS_CONFED_SET)) return discard('AS4_PATH with confederation segments');
      extra.as4Path = path;
      return OK;
    }
    case AttrType.AS4_AGGREGATOR:
      if (fourOctetAs) return OK;
      if (v.length !== 8) return discard(`AS4_AGGREGATOR of ${v.length} octets`);
      extra.as4Aggregator = v.readUInt32BE(0);
      return OK;
    default:
      return OK;
  }
}

/** Segments of an AS_PATH with `size`-octet AS numbers, or the reason it is malformed. */
export function readAsPath(v: Buffer, size: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let at = 0;
  while (at < v.length) {
    if (at + 2 > v.length) return 'a segment header is cut short';
    const type = v[at];
    const count = v[at + 1];
    if (type < SegmentType.AS_SET || type > SegmentType.AS_CONFED_SET) return `segment type ${type}`;
    // RFC 7606 7.2: a zero-length segment is malformed.
    if (count === 0) return 'an empty segment';
    if (at + 2 + count * size > v.length) return `a segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(size === 4 ? v.readUInt32BE(at + 2 + 4 * i) : v.readUInt16BE(at + 2 + 2 * i));
    segments.push({ type, asns });
    at += 2 + count * size;
  }
  return segments;
}

/** RFC 4271 9.1.2.2 a: a set counts as one AS, confederation segments as none. */
export function asPathLength(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === SegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === SegmentType.AS_SET) n += 1;
  }
  return n;
}

/**
 * RFC 6793 4.2.3: the true path of a route from a 2-octet speaker, rebuilt
 * from AS_PATH and AS4_PATH.
 */
export function mergeAs4Path(attrs: PathAttributes, as4Path: AsPathSegment[] | undefined, as4Aggregator: number | undefined): void {
  if (as4Aggregator !== undefined && attrs.aggregator) {
    // An AGGREGATOR that is not AS_TRANS says a 2-octet speaker aggregated last: the AS4_* attributes are stale.
    if (attrs.aggregator.asNumber !== AS_TRANS) return;
    attrs.aggregator.asNumber = as4Aggregator;
  }
  if (!as4Path || !attrs.asPath) return;
  const have = asPathLength(attrs.asPath);
  const want = asPathLength(as4Path);
  if (have < want) return;
  let keep = have - want;
  const head: AsPathSegment[] = [];
  for (const s of attrs.asPath) {
    if (keep === 0) break;
    if (s.type === SegmentType.AS_SEQUENCE) {
      const take = Math.min(keep, s.asns.length);
      head.push({ type: s.type, asns: s.asns.slice(0, take) });
      keep -= take;
    } else if (s.type === SegmentType.AS_SET) {
      head.push(s);
      keep -= 1;
    } else {
      head.push(s);
    }
  }
  attrs.asPath = [...head, ...as4Path];
}
