// What this speaker announces to one peer for one prefix: its own prefixes
// (the node's blocks and the configured service ranges) to every peer, and,
// as a route reflector (RFC 4456 6), the best path it learned from one iBGP
// peer to the others: from a client to everyone, from a non-client to the
// clients only. Learned routes are not passed on otherwise, as a Calico
// node announces only its own blocks.

import type { Family } from '../base/family.ts';
import type { PathAttributes } from './wire/attributes.ts';
import { Origin, SegmentType } from './wire/constants.ts';
import type { Path } from './rib/path.ts';

export interface ExportPeer {
  address: string;
  ibgp: boolean;
  families: readonly Family[];
  /** This speaker's address on the session; the next hop of its own prefixes in that family. */
  localAddress?: string;
  routeReflectorClient: boolean;
  /** Reflected routes carry this speaker as next hop. */
  nextHopSelf?: boolean;
}

export interface ExportContext {
  localAs: number;
  /** Next hops for own prefixes of the family the session is not (IPv6 prefixes over an IPv4 session). */
  addresses: Partial<Record<Family, string>>;
  clusterId?: string;
  /** Is this peer (by address) a route-reflector client of ours? */
  isClient(peer: string): boolean;
}

export interface Advertisement {
  attributes: PathAttributes;
  nextHop: string[];
}

const LOCAL_PREF = 100;

/** The next hop of this speaker's own prefixes of `family` on a session. */
export function selfNextHop(peer: ExportPeer, family: Family, ctx: ExportContext): string | undefined {
  const local = peer.localAddress;
  if (local && (family === 4) === !local.includes(':')) return local;
  return ctx.addresses[family];
}

export function ownAdvertisement(peer: ExportPeer, family: Family, ctx: ExportContext): Advertisement | undefined {
  if (!peer.families.includes(family)) return undefined;
  const nextHop = selfNextHop(peer, family, ctx);
  if (!nextHop) return undefined;
  const attributes: PathAttributes = peer.ibgp
    ? { origin: Origin.IGP, asPath: [], localPref: LOCAL_PREF }
    : { origin: Origin.IGP, asPath: [{ type: SegmentType.AS_SEQUENCE, asns: [ctx.localAs] }] };
  return { attributes, nextHop: [nextHop] };
}

export function reflectedAdvertisement(peer: ExportPeer, best: Path, ctx: ExportContext): Advertisement | undefined {
  if (!ctx.clusterId || !peer.ibgp || !best.ibgp || best.peer === peer.address) return undefined;
  if (!peer.families.includes(best.family)) return undefined;
  if (!ctx.isClient(best.peer) && !peer.routeReflectorClient) return undefined;
  const a = best.attributes;
  return {
    attributes: {
      ...a,
      localPref: a.localPref ?? LOCAL_PREF,
      originatorId: a.originatorId ?? best.peerRouterId,
      clusterList: [ctx.clusterId, ...(a.clusterList ?? [])],
      nextHop: undefined,
    },
    nextHop: [(peer.nextHopSelf ? selfNextHop(peer, best.family, ctx) : undefined) ?? best.nextHop],
  };
}
