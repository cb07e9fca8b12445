// Routes learned over BGP as one more route source (routes/route-source.ts):
// each selected prefix is claimed towards its best path's next hop, with the
// BGP route protocol, so the one route syncer installs and removes them
// beside the store's blackholes for this node's own blocks.
//
// How a learned route leaves the node follows routes.mode when its next hop
// is a cluster node (Calico's IPIP + BGP: `via <node> dev tunl0 onlink`; in
// vxlan mode through the VXLAN device to that node's tunnel end; plain in
// direct mode), since only a node ends netlet's tunnels. A next hop that is
// no node (a top-of-rack router, an external peer) is routed plain in every
// mode, as Calico tunnels only to its own nodes.

import type { Peer } from '../routes/peer.ts';
import type { RouteClaim, RouteSource, SourceClaims } from '../routes/route-source.ts';
import { BGP_ROUTES_PROTOCOL } from '../routes/route-table.ts';
import type { Path } from './rib/path.ts';

/** After the store (10): a block the cluster records as this node's is never overridden by an announcement. */
export const BGP_SOURCE_PRIORITY = 20;

/** What the source reads of the speaker. */
export interface LearnedRoutes {
  selected(): Iterable<Path[]>;
  watch(fn: () => void): () => void;
  ready(): Promise<void>;
}

export interface BgpRouteSourceOptions {
  /** How reports name the peer a path came from (its mesh node's name, or the configured peer). */
  peerName?: (address: string) => string;
  /** The cluster node whose InternalIP this next hop is, as the route modes see it (with its tunnel end); undefined when none is. */
  nodeAt?: (nextHop: string) => Peer | undefined;
}

export class BgpRouteSource implements RouteSource {
  readonly name = 'bgp';
  readonly priority = BGP_SOURCE_PRIORITY;
  readonly #routes: LearnedRoutes;
  readonly #peerName: (address: string) => string;
  readonly #nodeAt: (nextHop: string) => Peer | undefined;
  /**
   * The claim last made for a one-path selection, by that selection's array
   * (the RIB makes a new one whenever a prefix's selection changes), with
   * the node its next hop named then: a sync at a full table then builds
   * claims only for the prefixes that changed, or whose next hop's node did.
   */
  readonly #claimOf = new WeakMap<Path[], { claim: RouteClaim; bestNode: Peer | undefined }>();
  /** A router's next hop as a peer, one object per next hop (two prefixes behind one router share it). */
  readonly #routers = new Map<string, Peer>();

  constructor(routes: LearnedRoutes, opts: BgpRouteSourceOptions = {}) {
    this.#routes = routes;
    this.#peerName = opts.peerName ?? ((a) => a);
    this.#nodeAt = opts.nodeAt ?? (() => undefined);
  }

  ready(): Promise<void> {
    return this.#routes.ready();
  }

  claims(): SourceClaims {
    const claims: RouteClaim[] = [];
    const routersSeen = new Set<string>();
    const bare = (p: Path): Peer => {
      routersSeen.add(p.nextHop);
      let peer = this.#routers.get(p.nextHop);
      if (!peer) this.#routers.set(p.nextHop, (peer = { name: `bgp:${p.nextHop}`, addresses: { [p.family]: p.nextHop } }));
      return peer;
    };
    for (const paths of this.#routes.selected()) {
      const best = paths[0];
      const node = this.#peerName(best.peer);
      const bestNode = this.#nodeAt(best.nextHop);
      const cached = paths.length === 1 ? this.#claimOf.get(paths) : undefined;
      if (cached && cached.bestNode === bestNode && cached.claim.node === node) {
        if (!bestNode) bare(best);
        claims.push(cached.claim);
        continue;
      }
      const claim = this.#claim(paths, node, bestNode, bare);
      if (paths.length === 1) this.#claimOf.set(paths, { claim, bestNode });
      claims.push(claim);
    }
    // Routers no selection names any more are forgotten.
    for (const nextHop of this.#routers.keys()) if (!routersSeen.has(nextHop)) this.#routers.delete(nextHop);
    claims.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
    return { claims, skipped: [] };
  }

  #claim(paths: Path[], node: string, bestNode: Peer | undefined, bare: (p: Path) => Peer): RouteClaim {
    const best = paths[0];
    if (!bestNode) {
      const alsoVia = paths.slice(1).map(bare);
      return { dst: best.prefix, family: best.family, node, peer: bare(best), ...(alsoVia.length ? { alsoVia } : {}), protocol: BGP_ROUTES_PROTOCOL, plain: true };
    }
    // Equal paths through nodes: the mode decides whether they merge (plain gateways do, tunnel routes do not).
    const alsoVia = paths.slice(1).map((p) => this.#nodeAt(p.nextHop) ?? bare(p));
    return { dst: best.prefix, family: best.family, node, peer: bestNode, ...(alsoVia.length ? { alsoVia } : {}), protocol: BGP_ROUTES_PROTOCOL };
  }

  watch(onChange: () => void): () => void {
    return this.#routes.watch(onChange);
  }
}
