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
    for (const paths of this.#routes.selected()) {
      const best = paths[0];
      const node = this.#peerName(best.peer);
      const bestNode = this.#nodeAt(best.nextHop);
      // A router's next hop is named by itself: two prefixes behind one next hop share one peer entry.
      const bare = (p: Path): Peer => ({ name: `bgp:${p.nextHop}`, addresses: { [p.family]: p.nextHop } });
      if (!bestNode) {
        const alsoVia = paths.slice(1).map(bare);
        claims.push({ dst: best.prefix, family: best.family, node, peer: bare(best), ...(alsoVia.length ? { alsoVia } : {}), protocol: BGP_ROUTES_PROTOCOL, plain: true });
        continue;
      }
      // Equal paths through nodes: the mode decides whether they merge (plain gateways do, tunnel routes do not).
      const alsoVia = paths.slice(1).map((p) => this.#nodeAt(p.nextHop) ?? bare(p));
      claims.push({ dst: best.prefix, family: best.family, node, peer: bestNode, ...(alsoVia.length ? { alsoVia } : {}), protocol: BGP_ROUTES_PROTOCOL });
    }
    claims.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
    return { claims, skipped: [] };
  }

  watch(onChange: () => void): () => void {
    return this.#routes.watch(onChange);
  }
}
