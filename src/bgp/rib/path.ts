// A route as a peer announced it, and the BGP decision process over such
// routes (RFC 4271 9.1.2.2, RFC 4456 9): which path is best, and which paths
// are equal enough to share traffic (ECMP), as BIRD's "merge paths" and
// GoBGP's multipath do: equal up to the eBGP/iBGP step, before the
// identifier tie-breaks.

import type { Family } from '../../base/family.ts';
import { asPathLength, type PathAttributes } from '../wire/attributes.ts';
import { SegmentType } from '../wire/constants.ts';

export interface Path {
  prefix: string;
  family: Family;
  /** The peer's configured address: the key of its session. */
  peer: string;
  peerAs: number;
  peerRouterId: string;
  ibgp: boolean;
  /** Where the kernel should send packets for the prefix. */
  nextHop: string;
  attributes: PathAttributes;
  /** RFC 4724: kept from a session that ended gracefully, until the peer refreshes or the restart time runs out. */
  stale: boolean;
}

const DEFAULT_LOCAL_PREF = 100;

const ipv4Value = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);

/** The AS a path came from (the first of its AS_SEQUENCE), for the MED rule; 0 for local-AS paths. */
function neighbourAs(p: Path): number {
  const first = p.attributes.asPath?.[0];
  return first && first.type === SegmentType.AS_SEQUENCE ? first.asns[0] : 0;
}

/** Compares up to the point where paths count as equal for multipath; negative when `a` is better. */
export function compareForMultipath(a: Path, b: Path): number {
  // RFC 4271 9.1.1: LOCAL_PREF is the iBGP degree of preference; an eBGP path has none of its own.
  const lpA = a.ibgp ? (a.attributes.localPref ?? DEFAULT_LOCAL_PREF) : DEFAULT_LOCAL_PREF;
  const lpB = b.ibgp ? (b.attributes.localPref ?? DEFAULT_LOCAL_PREF) : DEFAULT_LOCAL_PREF;
  if (lpA !== lpB) return lpB - lpA;
  const lenA = asPathLength(a.attributes.asPath ?? []);
  const lenB = asPathLength(b.attributes.asPath ?? []);
  if (lenA !== lenB) return lenA - lenB;
  const oA = a.attributes.origin ?? 2;
  const oB = b.attributes.origin ?? 2;
  if (oA !== oB) return oA - oB;
  // MED compares only between paths from the same neighbouring AS (9.1.2.2 c).
  if (neighbourAs(a) === neighbourAs(b)) {
    const mA = a.attributes.med ?? 0;
    const mB = b.attributes.med ?? 0;
    if (mA !== mB) return mA - mB;
  }
  if (a.ibgp !== b.ibgp) return a.ibgp ? 1 : -1;
  return 0;
}

/** The full order: the multipath steps, then the tie-breaks. */
export function comparePaths(a: Path, b: Path): number {
  const m = compareForMultipath(a, b);
  if (m !== 0) return m;
  // RFC 4456 9: a reflected route's ORIGINATOR_ID stands in for the router ID; a shorter CLUSTER_LIST wins.
  const idA = ipv4Value(a.attributes.originatorId ?? a.peerRouterId);
  const idB = ipv4Value(b.attributes.originatorId ?? b.peerRouterId);
  if (idA !== idB) return idA - idB;
  const clA = a.attributes.clusterList?.length ?? 0;
  const clB = b.attributes.clusterList?.length ?? 0;
  if (clA !== clB) return clA - clB;
  return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0;
}

/** The best path first, then every other path equal to it for multipath; empty for no paths. */
export function selectPaths(paths: Iterable<Path>): Path[] {
  const sorted = [...paths].sort(comparePaths);
  if (!sorted.length) return [];
  return sorted.filter((p) => compareForMultipath(sorted[0], p) === 0);
}
