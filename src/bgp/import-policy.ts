// Which announced routes a speaker accepts into its RIB, and with what next
// hop: loop checks (RFC 4271 9.1.2 AS_PATH, RFC 4456 8 ORIGINATOR_ID and
// CLUSTER_LIST), the first-AS check for eBGP (RFC 4271 6.3, which RFC 7606
// 7.2 turns into treat-as-withdraw), and a usable next hop.

import type { Family } from '../base/family.ts';
import { SegmentType } from './wire/constants.ts';
import type { Negotiated } from './session/negotiate.ts';
import type { DecodedUpdate } from './wire/update.ts';

export interface ImportContext {
  localAs: number;
  routerId: string;
  /** Set when this speaker reflects routes (RFC 4456). */
  clusterId?: string;
  /** This node's own addresses: a route whose next hop is one of them would loop. */
  ownAddresses: ReadonlySet<string>;
}

/** Why the announcements of `family` in this UPDATE are not accepted, or null when they are (with their next hop). */
export function checkAnnouncement(u: DecodedUpdate, family: Family, n: Negotiated, ctx: ImportContext): { nextHop: string } | { reject: string } {
  const a = u.attributes;
  const path = a.asPath ?? [];
  if (!n.ibgp) {
    if (path.some((s) => s.asns.includes(ctx.localAs))) return { reject: `AS_PATH holds this speaker's AS ${ctx.localAs} (a loop)` };
    const first = path[0];
    if (!first || first.type !== SegmentType.AS_SEQUENCE || first.asns[0] !== n.remoteAs) return { reject: `AS_PATH does not start with the peer's AS ${n.remoteAs}` };
  }
  if (a.originatorId === ctx.routerId) return { reject: 'ORIGINATOR_ID is this speaker (a reflection loop)' };
  if (ctx.clusterId && a.clusterList?.includes(ctx.clusterId)) return { reject: `CLUSTER_LIST holds this cluster ${ctx.clusterId} (a reflection loop)` };
  const nextHop = family === 4 ? u.nextHops[4] : u.nextHops[6]?.[0];
  if (!nextHop) return { reject: `no IPv${family} next hop` };
  if (ctx.ownAddresses.has(nextHop)) return { reject: `next hop ${nextHop} is this node` };
  return { nextHop };
}
