// How another node's prefixes are reached. One strategy per routes.mode.
// A mode turns a prefix and its peer into a route (routeTo), and may own
// kernel state beside the routes, through optional hooks the component calls
// on every sync, in this order (apply-plan.ts):
//
//   ensureDevices()        create or repair the mode's devices
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
import type { Peer } from './peer.ts';
import type { Family, NodeRoute } from './route-table.ts';

export interface RouteMode {
  readonly name: string;
  /** The route to `dst` (a prefix of `peer`), or a reason why there is none. */
  routeTo(dst: string, family: Family, peer: Peer): NodeRoute | { skip: string };
  /**
   * Creates or repairs the devices the mode's routes name. Called before
   * every apply, so it must be idempotent and cheap when all is in place; a
   * throw fails the sync (routes naming a missing device could not be added).
   */
  ensureDevices?(): Promise<void>;
  /**
   * Makes the mode's per-peer entries (neighbours, FDB) exactly those of
   * `peers`, the peers of the routes about to be applied: adds and updates
   * before the routes that need them, removes those of peers no longer
   * routed to. A throw fails the sync.
   */
  syncNeighbours?(peers: readonly Peer[]): Promise<void>;
  /** Removes the mode's devices and entries; called by `netlet cleanup` after the routes are gone. */
  cleanup?(): Promise<void>;
}

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

/** Every mode netlet knows: `netlet cleanup` cleans all of them, whatever the config said when the state was made. */
export function knownRouteModes(): RouteMode[] {
  return [directMode];
}

export function routeMode(name: string): RouteMode {
  const mode = knownRouteModes().find((m) => m.name === name);
  if (mode) return mode;
  throw new NetletError('ERR_ROUTE_MODE', `routes mode ${JSON.stringify(name)} is not implemented (known: ${knownRouteModes().map((m) => m.name).join(', ')})`);
}
