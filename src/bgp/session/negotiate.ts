// What this side offers in its OPEN, and what two OPENs agree on: checks the
// peer's OPEN against the configured peer (RFC 4271 6.2, RFC 6286, RFC 4760
// 8, RFC 6793, RFC 4724) before the session may go on.

import type { Family } from '../../base/family.ts';
import { Afi, ErrorCode, OpenSubcode, Safi } from '../wire/constants.ts';
import { BgpNotificationError } from '../wire/notification-error.ts';
import type { GracefulRestartCapability, OpenMessage } from '../wire/open.ts';

export interface SessionConfig {
  localAs: number;
  /** This speaker's BGP identifier. */
  routerId: string;
  peerAs: number;
  /** Seconds; 0 disables keepalives and the hold timer. */
  holdTime: number;
  /** Seconds between KEEPALIVEs; by default a third of the negotiated hold time. */
  keepaliveTime?: number;
  families: Family[];
  /**
   * RFC 4724: announce the capability, with what restart time, the R bit
   * (this speaker restarted) and the F bit per family (its forwarding state,
   * the kernel's routes, outlived the restart; absent: true). Read for each
   * OPEN, so a speaker may clear the R bit once its restart is over.
   */
  gracefulRestart?: { restartTime: number; restarting: boolean; forwardingPreserved?: boolean };
}

export interface Negotiated {
  remoteAs: number;
  remoteId: string;
  holdTime: number;
  keepaliveTime: number;
  fourOctetAs: boolean;
  families: Family[];
  routeRefresh: boolean;
  ibgp: boolean;
  /** The peer's graceful restart capability, when both sides announced one. */
  peerGracefulRestart?: GracefulRestartCapability;
}

const afiOf = (f: Family) => (f === 4 ? Afi.IPV4 : Afi.IPV6);

export function localOpen(c: SessionConfig): OpenMessage {
  return {
    asNumber: c.localAs,
    holdTime: c.holdTime,
    routerId: c.routerId,
    capabilities: {
      multiprotocol: c.families.map((f) => ({ afi: afiOf(f), safi: Safi.UNICAST })),
      routeRefresh: true,
      enhancedRouteRefresh: false,
      fourOctetAs: c.localAs,
      gracefulRestart: c.gracefulRestart && {
        restarting: c.gracefulRestart.restarting,
        time: c.gracefulRestart.restartTime,
        families: c.families.map((f) => ({ afi: afiOf(f), safi: Safi.UNICAST, forwardingPreserved: c.gracefulRestart!.forwardingPreserved ?? true })),
      },
      other: [],
    },
  };
}

const ipv4Value = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);

/** Throws the NOTIFICATION to send when the peer's OPEN does not fit the configured peer. */
export function negotiate(c: SessionConfig, open: OpenMessage): Negotiated {
  if (open.asNumber !== c.peerAs) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(Math.min(open.asNumber, 0xffff), 0);
    throw new BgpNotificationError(ErrorCode.OPEN, OpenSubcode.BAD_PEER_AS, `peer AS ${open.asNumber}, configured ${c.peerAs}`, data);
  }
  const ibgp = c.peerAs === c.localAs;
  // RFC 6286 2.2: within one AS the identifiers must differ.
  if (ibgp && ipv4Value(open.routerId) === ipv4Value(c.routerId)) {
    throw new BgpNotificationError(ErrorCode.OPEN, OpenSubcode.BAD_BGP_IDENTIFIER, `the peer uses this speaker's own identifier ${open.routerId}`);
  }
  const caps = open.capabilities;
  // RFC 4760 8: a peer announcing no multiprotocol capability speaks IPv4 unicast only.
  const offered = caps.multiprotocol.length ? caps.multiprotocol : [{ afi: Afi.IPV4, safi: Safi.UNICAST }];
  const families = c.families.filter((f) => offered.some((o) => o.afi === afiOf(f) && o.safi === Safi.UNICAST));
  const holdTime = Math.min(c.holdTime, open.holdTime);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(c.keepaliveTime ?? Math.floor(holdTime / 3), Math.floor(holdTime / 3)));
  return {
    remoteAs: open.asNumber,
    remoteId: open.routerId,
    holdTime,
    keepaliveTime,
    fourOctetAs: caps.fourOctetAs !== undefined,
    families,
    routeRefresh: caps.routeRefresh || caps.enhancedRouteRefresh,
    ibgp,
    peerGracefulRestart: c.gracefulRestart ? caps.gracefulRestart : undefined,
  };
}

/** RFC 4271 6.8: true when this side's identifier is the lower, so the connection it dialled loses. */
export const localIdIsLower = (localId: string, remoteId: string): boolean => ipv4Value(localId) < ipv4Value(remoteId);
