// The routes netlet installs towards other nodes' pod blocks, and the table
// they live in. Only routes carrying NODE_ROUTES_PROTOCOL are netlet's: a
// sync never touches a route with another protocol (the admin's static
// routes, the kernel's connected routes, BIRD's), as Calico's Felix keeps to
// its own protocol number (80).

import type { Family } from '../base/family.ts';

export type { Family };

/**
 * rtm_protocol of inter-node routes: 88, free in iproute2's rt_protos
 * (`ip route show proto 88`). Deliberately not the 87 that netlet-cni puts on
 * its per-pod routes (src/netlink/routes.ts NETLET_PROTOCOL): the syncer
 * deletes every route of its protocol that it does not want, and must never
 * see the plugin's pod routes.
 */
export const NODE_ROUTES_PROTOCOL = 88;

/**
 * rtm_protocol of routes learned over BGP (RTPROT_BGP, `proto bgp` in
 * iproute2), as routers install them. The syncer owns these too when the
 * agent runs its BGP speaker (the table is told so): a node running netlet's
 * speaker runs no other BGP daemon writing the main table.
 */
export const BGP_ROUTES_PROTOCOL = 186;

/**
 * Metric of the blackhole for this node's own blocks. In bridge mode the
 * bridge holds a block's gateway address, so the kernel has a connected route
 * for the block (metric 0 in IPv4, 256 in IPv6); the blackhole sits behind it
 * with a worse metric and only catches traffic to the block's unused
 * addresses when no better route exists (Calico's habit: never forward a
 * packet for our own block to the default route).
 */
export const BLACKHOLE_METRIC = 4096;

export interface NodeRoute {
  /** Destination CIDR (a block or podCIDR). */
  dst: string;
  family: Family;
  type: 'unicast' | 'blackhole';
  /** Next hop, for unicast (the first of `gateways` for an ECMP route). */
  gateway?: string;
  /** ECMP: every next hop, sorted, when there is more than one. */
  gateways?: string[];
  /** Output device name (tunnels); absent for direct routes. */
  dev?: string;
  /** Gateway is on the device's link even if no address covers it (IPIP/VXLAN). */
  onlink?: boolean;
  /** Route metric; absent means the kernel default. */
  metric?: number;
  /** rtm_protocol; absent means NODE_ROUTES_PROTOCOL (BGP_ROUTES_PROTOCOL for learned routes). */
  protocol?: number;
}

/** The kernel's main table as far as netlet's inter-node routes go (real: netlink; fake: memory). */
export interface RouteTable {
  /** Routes in the main table whose protocol is NODE_ROUTES_PROTOCOL. */
  listOwned(): Promise<NodeRoute[]>;
  add(route: NodeRoute): Promise<void>;
  /** Deletes exactly this route (matched by protocol too); false when it was not there. */
  remove(route: NodeRoute): Promise<boolean>;
  /**
   * Optional: many changes in few system calls (a full BGP table is 100k
   * routes). Each removal's outcome as remove() gives it, each addition's as
   * add() (undefined: added), in the order given; removals go first.
   */
  applyMany?(removals: readonly NodeRoute[], additions: readonly NodeRoute[]): Promise<{ removed: Array<boolean | Error>; added: Array<Error | undefined> }>;
  close(): void;
}

/**
 * Whether the installed route `actual` is what `wanted` asks for. The device
 * counts only when `wanted` names one: the kernel reports the device it
 * resolved for every gatewayed route, which a direct route never asks for.
 */
export function sameRoute(wanted: NodeRoute, actual: NodeRoute): boolean {
  return (
    wanted.dst === actual.dst &&
    wanted.type === actual.type &&
    (wanted.gateway ?? '') === (actual.gateway ?? '') &&
    sameList(wanted.gateways, actual.gateways) &&
    (wanted.dev === undefined || wanted.dev === actual.dev) &&
    (wanted.metric ?? 0) === (actual.metric ?? 0) &&
    (wanted.protocol ?? NODE_ROUTES_PROTOCOL) === (actual.protocol ?? NODE_ROUTES_PROTOCOL)
  );
}

function sameList(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function describeRoute(r: NodeRoute): string {
  const parts = [r.type === 'blackhole' ? `blackhole ${r.dst}` : r.dst];
  if (r.gateways) parts.push(`via ${r.gateways.join(' and ')}`);
  else if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.onlink) parts.push('onlink');
  if (r.metric !== undefined) parts.push(`metric ${r.metric}`);
  return parts.join(' ');
}
