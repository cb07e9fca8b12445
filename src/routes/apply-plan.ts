// Puts a plan into the kernel: the mode's devices, then the plan is made
// (routeTo may depend on what the devices step found), then the mode's
// per-peer entries, then the routes. Devices come first because a route
// naming a device that does not exist cannot be added; neighbour and FDB entries come before the
// routes that use them, so that no packet takes a tunnel route to a peer the
// device cannot yet address (flannel's order for VXLAN: ARP, FDB, route).
// Entries of peers that left are removed in the same call, just before their
// routes: for that moment a route may point at a peer with no entry, which
// only drops packets to a node that is gone anyway.

import type { RouteMode } from './modes.ts';
import type { Peer } from './peer.ts';
import type { RoutePlan } from './route-planner.ts';
import type { RouteSyncer, SyncResult } from './route-syncer.ts';

/**
 * `makePlan` runs after the devices are ensured for `self`. A throw from a
 * hook (or from makePlan) stops here, before any route is touched; route
 * errors are in the result.
 */
export async function applyRoutePlan(
  makePlan: () => RoutePlan,
  self: Peer | undefined,
  mode: RouteMode,
  syncer: RouteSyncer,
  opts: { fromLastSync?: boolean } = {},
): Promise<{ plan: RoutePlan; result: SyncResult }> {
  await mode.ensureDevices?.(self);
  const plan = makePlan();
  await mode.syncNeighbours?.(plan.peers);
  return { plan, result: await syncer.sync(plan.routes, opts) };
}
