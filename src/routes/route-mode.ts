// What a route mode is (modes.ts says which modes there are and how their
// hooks are called): its own file so that the tunnel modes, which modes.ts
// loads on demand, depend on it without an import cycle.
import type { Encapsulation } from './encapsulation.ts';
import type { Peer } from './peer.ts';
import type { Family, NodeRoute } from './route-table.ts';

export interface RouteMode {
  readonly name: string;
  /** The route to `dst` (a prefix of `peer`), or a reason why there is none. */
  routeTo(dst: string, family: Family, peer: Peer): NodeRoute | { skip: string };
  /**
   * Creates or repairs the devices the mode's routes name, for `self` (this
   * node as its peers see it: its underlay addresses, its tunnel end; absent
   * while its Node is not known). Called before every plan, so it must be
   * idempotent and cheap when all is in place; a throw fails the sync
   * (routes naming a missing device could not be added).
   */
  ensureDevices?(self: Peer | undefined): Promise<void>;
  /**
   * Makes the mode's per-peer entries (neighbours, FDB) exactly those of
   * `peers`, the peers of the routes about to be applied: adds and updates
   * before the routes that need them, removes those of peers no longer
   * routed to. A throw fails the sync.
   */
  syncNeighbours?(peers: readonly Peer[]): Promise<void>;
  /** Removes the mode's devices and entries; called by `netlet cleanup` after the routes are gone. */
  cleanup?(): Promise<void>;
  /** Lets go of what the mode holds (its netlink socket) when the component stops; the kernel state stays. */
  close?(): void;
}

/** What the tunnel modes are built with (routes.* in the agent config). */
export interface RouteModeOptions {
  /** `always`: every peer through the tunnel; `cross-subnet`: only peers outside this node's own subnet (Calico's CrossSubnet). */
  encapsulation?: Encapsulation;
  vxlan?: { vni?: number; port?: number };
  /** The network namespace to program (/var/run/netns/X); default: this thread's. */
  netnsPath?: string;
}

