// Routes learned over BGP as one more route source (routes/route-source.ts):
// each selected prefix is claimed towards its best path's next hop, with the
// BGP route protocol, so the one route syncer installs and removes them
// beside the store's blackholes for this node's own blocks.

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

export class BgpRouteSource implements RouteSource {
  readonly name = 'bgp';
  readonly priority = BGP_SOURCE_PRIORITY;
  readonly #routes: LearnedRoutes;
  readonly #peerName: (address: string) => string;

  /** `peerName`: how reports name the peer a path came from (its mesh node's name, or the configured peer). */
  constructor(routes: LearnedRoutes, peerName: (address: string) => string = (a) => a) {
    this.#routes = routes;
    this.#peerName = peerName;
  }

  ready(): Promise<void> {
    return this.#routes.ready();
  }

  claims(): SourceClaims {
    const claims: RouteClaim[] = [];
    for (const paths of this.#routes.selected()) {
      const best = paths[0];
      const node = this.#peerName(best.peer);
      // The peer is named by its next hop: two prefixes behind one next hop share one peer entry.
      const peerOf = (p: Path) => ({ name: `bgp:${p.nextHop}`, addresses: { [p.family]: p.nextHop } });
      const alsoVia = paths.slice(1).map(peerOf);
      claims.push({ dst: best.prefix, family: best.family, node, peer: peerOf(best), ...(alsoVia.length ? { alsoVia } : {}), protocol: BGP_ROUTES_PROTOCOL });
    }
    claims.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
    return { claims, skipped: [] };
  }

  watch(onChange: () => void): () => void {
    return this.#routes.watch(onChange);
  }
}
