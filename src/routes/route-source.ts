// Where the prefixes to route come from. Each source owns its claims (the
// store's Nodes and IPAMBlocks today; routes learned over BGP next); the
// component merges every source's claims (merge-claims.ts), turns them into
// routes with the mode, and one syncer applies the result, so a source never
// deletes another's routes and there is one owner of NODE_ROUTES_PROTOCOL.

import type { Family } from '../base/family.ts';
import type { Peer } from './peer.ts';

/** One prefix a source says where to send. */
export interface RouteClaim {
  /** Destination CIDR (a block, a podCIDR, a learned prefix). */
  dst: string;
  family: Family;
  /** The node the prefix belongs to (this node's name for its own prefixes); for reports. */
  node: string;
  /** How to reach it; absent when the prefix is this node's own, which gets a blackhole. */
  peer?: Peer;
  /** ECMP: more peers as good as `peer` (equal BGP paths); their routes join `peer`'s as one multipath route when all are plain gateways. */
  alsoVia?: Peer[];
  /** rtm_protocol of the route (route-table.ts); absent means NODE_ROUTES_PROTOCOL. */
  protocol?: number;
  /**
   * Route straight to the peer's address whatever the mode (a host-gw
   * route): the peer is no node (a router a BGP route came from), so no
   * tunnel of the mode ends there.
   */
  plain?: boolean;
}

/** A prefix that got no route, and why (shown once per change in the log). */
export interface SkippedPrefix {
  dst: string;
  node: string;
  reason: string;
  /** The source whose claim was skipped, when it is known. */
  source?: string;
}

/** Prefix order, then node: a deterministic order for reports and for which of two nodes claiming one prefix wins. */
export const byPrefixThenNode = (a: { dst: string; node: string }, b: { dst: string; node: string }): number =>
  a.dst === b.dst ? a.node.localeCompare(b.node) : a.dst.localeCompare(b.dst);

export interface SourceClaims {
  claims: RouteClaim[];
  /** What the source itself could not claim (an unknown owner, a duplicate, not a CIDR). */
  skipped: SkippedPrefix[];
}

export interface RouteSource {
  /** Unique among the component's sources; names the source in reports. */
  readonly name: string;
  /**
   * Decides conflicts: when two sources claim one destination, the lower
   * priority wins (like a route's administrative distance); see mergeClaims.
   */
  readonly priority: number;
  /**
   * Resolves once the source knows its whole set (the store: Nodes and
   * IPAMBlocks listed once; a BGP speaker: its initial exchange done).
   * Nothing is applied before every source is ready: the syncer removes each
   * netlet route that no source asks for, so an early sync would delete the
   * routes a source not yet ready still owns.
   */
  ready(): Promise<void>;
  /** The source's claims now; cheap and synchronous (a source keeps its own copy). */
  claims(): SourceClaims;
  /** Calls `onChange` whenever claims() may have changed; returns the unsubscribe. */
  watch(onChange: () => void): () => void;
}
