// Decoding UPDATE (RFC 4271 4.3, RFC 4760 MP_REACH/MP_UNREACH) into what a
// RIB needs: per family, the prefixes announced with their attributes and
// the prefixes withdrawn. Malformations follow RFC 7606: a NOTIFICATION
// (thrown) only where the message cannot be parsed safely, otherwise
// treat-as-withdraw or attribute-discard, reported beside the result.

import type { Family } from '../../base/family.ts';
import { Afi, AttrFlag, AttrType, ErrorCode, Safi, UpdateSubcode } from './constants.ts';
import { BgpNotificationError } from './notification-error.ts';
import { flagsConflict, isKnownAttribute, mergeAs4Path, readAttribute, type AsPathSegment, type PathAttributes } from './attributes.ts';
import { decodeAddress, decodePrefixes, PrefixError } from './prefix.ts';
import type { AfiSafi } from './open.ts';

export interface FamilyPrefixes {
  4: string[];
  6: string[];
}

export interface DecodedUpdate {
  /** Prefixes to remove (with, under treat-as-withdraw, everything the message announced). */
  withdrawn: FamilyPrefixes;
  /** Prefixes announced with `attributes` and the family's next hop. */
  announced: FamilyPrefixes;
  attributes: PathAttributes;
  /** IPv4: NEXT_HOP or MP_REACH's; IPv6: MP_REACH's global address (and link-local second, when sent). */
  nextHops: { 4?: string; 6?: string[] };
  /** RFC 7606 treat-as-withdraw: why this message's announcements became withdrawals. */
  treatAsWithdraw?: string;
  /** RFC 7606 attribute-discard: the attributes dropped and why. */
  discarded: string[];
  /** RFC 4724 2: the family whose End-of-RIB this message is. */
  endOfRib?: Family;
  /** MP_REACH/MP_UNREACH families that were not IPv4/IPv6 unicast, ignored. */
  ignoredFamilies: AfiSafi[];
}

export interface UpdateContext {
  /** Whether both sides announced the 4-octet AS capability (AS_PATH width). */
  fourOctetAs: boolean;
}

const updateError = (subcode: number, reason: string, data?: Buffer) => new BgpNotificationError(ErrorCode.UPDATE, subcode, reason, data);

/** The family of a unicast AFI/SAFI netlet carries, or 0. */
export function unicastFamily(afi: number, safi: number): Family | 0 {
  if (safi !== Safi.UNICAST) return 0;
  return afi === Afi.IPV4 ? 4 : afi === Afi.IPV6 ? 6 : 0;
}

function prefixesOr(buf: Buffer, start: number, end: number, family: Family, subcode: number, field: string): string[] {
  try {
    return decodePrefixes(buf, start, end, family);
  } catch (err) {
    if (err instanceof PrefixError) throw updateError(subcode, `${field}: ${err.message}`);
    throw err;
  }
}

export function decodeUpdate(body: Buffer, ctx: UpdateContext): DecodedUpdate {
  const out: DecodedUpdate = { withdrawn: { 4: [], 6: [] }, announced: { 4: [], 6: [] }, attributes: {}, nextHops: {}, discarded: [], ignoredFamilies: [] };
  const withdrawnLength = body.readUInt16BE(0);
  if (2 + withdrawnLength + 2 > body.length) {
    throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${withdrawnLength} overruns the ${body.length}-octet body`);
  }
  const attrStart = 4 + withdrawnLength;
  const attrLength = body.readUInt16BE(2 + withdrawnLength);
  const attrEnd = attrStart + attrLength;
  if (attrEnd > body.length) throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${attrLength} overruns the body`);
  out.withdrawn[4] = prefixesOr(body, 2, 2 + withdrawnLength, 4, UpdateSubcode.INVALID_NETWORK_FIELD, 'withdrawn routes');
  out.announced[4] = prefixesOr(body, attrEnd, body.length, 4, UpdateSubcode.INVALID_NETWORK_FIELD, 'NLRI');

  if (withdrawnLength === 0 && attrLength === 0 && body.length === 4) {
    out.endOfRib = 4;
    return out;
  }

  const withdrawReasons: string[] = [];
  const seen = new Set<number>();
  const extra: { as4Path?: AsPathSegment[]; as4Aggregator?: number } = {};
  let mpSeen = false;
  let at = attrStart;
  while (at < attrEnd) {
    const flags = body[at];
    const headerLength = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (at + headerLength > attrEnd) {
      // RFC 7606 4: too few octets for an attribute header; the Total Attribute Length still locates the NLRI.
      withdrawReasons.push(`${attrEnd - at} stray octets after the last attribute`);
      break;
    }
    const type = body[at + 1];
    const length = headerLength === 4 ? body.readUInt16BE(at + 2) : body[at + 2];
    const vStart = at + headerLength;
    const vEnd = vStart + length;
    if (vEnd > attrEnd) {
      withdrawReasons.push(`attribute ${type} of ${length} octets overruns the attribute list`);
      break;
    }
    const value = body.subarray(vStart, vEnd);
    const whole = body.subarray(at, vEnd);
    at = vEnd;
    if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
      // RFC 7606 3 g: a repeated MP attribute leaves the NLRI ambiguous.
      if (seen.has(type)) throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} appears twice`);
      seen.add(type);
      mpSeen = true;
      if (flagsConflict(type, flags)) throw updateError(UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, `attribute ${type} with flags 0x${flags.toString(16)}`, Buffer.from(whole));
      if (type === AttrType.MP_REACH_NLRI) readMpReach(value, out);
      else readMpUnreach(value, out);
      continue;
    }
    // RFC 7606 3 g: other repeats are discarded, the first kept.
    if (seen.has(type)) {
      out.discarded.push(`a repeated attribute ${type}`);
      continue;
    }
    seen.add(type);
    if (!isKnownAttribute(type)) {
      if (!(flags & AttrFlag.OPTIONAL)) {
        throw updateError(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `well-known attribute ${type} is not known`, Buffer.from(whole));
      }
      // RFC 4271 5: unknown optional transitive attributes travel on, marked partial; non-transitive ones are dropped.
      if (flags & AttrFlag.TRANSITIVE) (out.attributes.unknown ??= []).push({ flags: flags | AttrFlag.PARTIAL, type, value: Buffer.from(value) });
      continue;
    }
    // RFC 7606 3 c: conflicting Optional/Transitive bits make the attribute malformed.
    if (flagsConflict(type, flags)) {
      const verdict = readAttribute(type, value, ctx.fourOctetAs, {}, {});
      const reason = `attribute ${type} with flags 0x${flags.toString(16)}`;
      if (verdict.action === 'discard') out.discarded.push(reason);
      else withdrawReasons.push(reason);
      continue;
    }
    const verdict = readAttribute(type, value, ctx.fourOctetAs, out.attributes, extra);
    if (verdict.action === 'treat-as-withdraw') withdrawReasons.push(verdict.reason);
    else if (verdict.action === 'discard') out.discarded.push(verdict.reason);
  }
  if (withdrawReasons.length && !mpSeen && at < attrEnd && out.announced[4].length === 0 && out.withdrawn[4].length === 0) {
    // RFC 7606 5.2: parsing stopped early and an MP_REACH/MP_UNREACH may sit in the unread part; no NLRI can be located.
    throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, withdrawReasons[0]);
  }
  if (!ctx.fourOctetAs) mergeAs4Path(out.attributes, extra.as4Path, extra.as4Aggregator);
  if (out.attributes.nextHop && out.announced[4].length) out.nextHops[4] ??= out.attributes.nextHop;

  if (seen.has(AttrType.MP_UNREACH_NLRI) && seen.size === 1 && withdrawnLength === 0 && out.announced[4].length === 0 && !withdrawReasons.length) {
    const emptyFamily = mpUnreachEndOfRib(body, attrStart, attrEnd);
    if (emptyFamily) out.endOfRib = emptyFamily;
  }

  const announcing = out.announced[4].length + out.announced[6].length > 0;
  if (announcing && !withdrawReasons.length) {
    // RFC 7606 3 d: a missing well-known mandatory attribute withdraws the routes.
    const missing: string[] = [];
    if (out.attributes.origin === undefined) missing.push('ORIGIN');
    if (out.attributes.asPath === undefined) missing.push('AS_PATH');
    if (out.announced[4].length && out.nextHops[4] === undefined) missing.push('NEXT_HOP');
    if (missing.length) withdrawReasons.push(`missing ${missing.join(', ')}`);
  }
  if (withdrawReasons.length) {
    out.treatAsWithdraw = withdrawReasons.join('; ');
    for (const f of [4, 6] as const) {
      out.withdrawn[f].push(...out.announced[f]);
      out.announced[f] = [];
    }
  }
  return out;
}

/** The family of an MP_UNREACH with no prefixes (RFC 4724 2: that family's End-of-RIB). */
function mpUnreachEndOfRib(body: Buffer, start: number, end: number): Family | 0 {
  const headerLength = body[start] & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
  if (end - start !== headerLength + 3) return 0;
  const v = start + headerLength;
  return unicastFamily(body.readUInt16BE(v), body[v + 2]);
}

function readMpReach(v: Buffer, out: DecodedUpdate): void {
  const mpError = (reason: string) => updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI: ${reason}`);
  if (v.length < 5) throw mpError(`${v.length} octets`);
  const afi = v.readUInt16BE(0);
  const safi = v[2];
  const nhLength = v[3];
  // After the next hop comes one reserved octet (RFC 4760 3).
  if (4 + nhLength + 1 > v.length) throw mpError(`next hop of ${nhLength} octets overruns the attribute`);
  const family = unicastFamily(afi, safi);
  if (!family) {
    out.ignoredFamilies.push({ afi, safi });
    return;
  }
  // RFC 7606 7.11: an inconsistent next hop length cannot be parsed around.
  const nextHops: string[] = [];
  if (family === 4) {
    if (nhLength !== 4) throw mpError(`IPv4 next hop of ${nhLength} octets`);
    nextHops.push(decodeAddress(v, 4, 4));
  } else {
    if (nhLength !== 16 && nhLength !== 32) throw mpError(`IPv6 next hop of ${nhLength} octets`);
    nextHops.push(decodeAddress(v, 4, 6));
    if (nhLength === 32) nextHops.push(decodeAddress(v, 20, 6));
  }
  out.announced[family].push(...prefixesOr(v, 5 + nhLength, v.length, family, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'MP_REACH_NLRI'));
  if (family === 4) out.nextHops[4] = nextHops[0];
  else out.nextHops[6] = nextHops;
}

function readMpUnreach(v: Buffer, out: DecodedUpdate): void {
  if (v.length < 3) throw updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI: ${v.length} octets`);
  const afi = v.readUInt16BE(0);
  const safi = v[2];
  const family = unicastFamily(afi, safi);
  if (!family) {
    out.ignoredFamilies.push({ afi, safi });
    return;
  }
  out.withdrawn[family].push(...prefixesOr(v, 3, v.length, family, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'MP_UNREACH_NLRI'));
}
