// How another node's prefixes are reached. One strategy per routes.mode.
// A mode turns a prefix and its peer into a route (routeTo), and may own
// kernel state beside the routes, through optional hooks the component calls
// on every sync, in this order (apply-plan.ts):
//
//   ensureDevices(self)    create or repair the mode's devices for this node
//   (the plan is made: routeTo per prefix, which may use what ensureDevices
//    learnt of the kernel: which devices exist, this node's own subnet)
//   syncNeighbours(peers)  per-peer neighbour/FDB entries, exactly these peers'
//   (the routes are applied)
//
// and `cleanup()` after the routes are removed on `netlet cleanup`
// (cleanup.ts). How the tunnel modes of issue 16 fit:
//
// - IPIP: ensureDevices brings up tunl0 (the ipip module's fallback device)
//   with its MTU; routeTo gives `via <peer underlay address> dev tunl0
//   onlink`; no neighbour entries (IPIP has no link layer); cleanup sets
//   tunl0 down (the fallback device cannot be deleted).
// - VXLAN: ensureDevices creates one VXLAN device per family (VNI, local
//   VTEP address, port, MTU) holding this node's tunnel address; routeTo
//   gives `via <peer.tunnel address> dev <vxlan> onlink`, or skips a peer
//   whose tunnel address or MAC is unknown; syncNeighbours keeps, per peer, a
//   permanent neighbour (tunnel address -> MAC) and an FDB entry (MAC -> peer
//   underlay address), removing those of peers that left; cleanup deletes the
//   devices (their entries go with them).
//
// A BGP speaker is a route source (route-source.ts), not a mode: it says
// where prefixes are, the mode still says how to get there.

import { NetletError } from '../base/errors.ts';
import type { RouteMode, RouteModeOptions } from './route-mode.ts';

export type { RouteMode, RouteModeOptions };

/**
 * host-gw (flannel's name): the peer's InternalIP must be on a shared link,
 * and the block is routed straight to it. No hooks: the route leaves through
 * the node's own uplink, which netlet does not own, and the kernel resolves
 * the next hop with ordinary ARP/NDP, so there is no device to create and no
 * entry to keep.
 */
export const directMode: RouteMode = {
  name: 'direct',
  routeTo(dst, family, peer) {
    const gateway = peer.addresses[family];
    if (!gateway) return { skip: `node ${peer.name} has no IPv${family} InternalIP` };
    return { dst, family, type: 'unicast', gateway };
  },
};

export const ROUTE_MODE_NAMES = ['direct', 'vxlan', 'ipip'] as const;
export type RouteModeName = (typeof ROUTE_MODE_NAMES)[number];

/** Refuses, by name, a mode netlet does not have. */
export function assertRouteModeName(name: string): asserts name is RouteModeName {
  if (!(ROUTE_MODE_NAMES as readonly string[]).includes(name)) {
    throw new NetletError('ERR_ROUTE_MODE', `routes mode ${JSON.stringify(name)} is not implemented (known: ${ROUTE_MODE_NAMES.join(', ')})`);
  }
}

/** The mode called `name`, built with `opts`; the tunnel modes are loaded only when asked for. */
export async function routeMode(name: string, opts: RouteModeOptions = {}): Promise<RouteMode> {
  assertRouteModeName(name);
  switch (name) {
    case 'direct':
      return directMode;
    case 'vxlan':
      return new (await import('./vxlan-mode.ts')).VxlanMode(opts);
    case 'ipip':
      return new (await import('./ipip-mode.ts')).IpipMode(opts);
  }
}

/** Every mode netlet knows: `netlet cleanup` cleans all of them, whatever the config said when the state was made. */
export async function knownRouteModes(opts: RouteModeOptions = {}): Promise<RouteMode[]> {
  return Promise.all(ROUTE_MODE_NAMES.map((n) => routeMode(n, opts)));
}
