// Today's route source: the store's Nodes and IPAMBlocks (store-claims.ts
// decides which node each prefix belongs to).

import type { ObjectStore } from '../k8s/store.ts';
import type { Peer } from './peer.ts';
import type { RouteSource } from './route-source.ts';
import { claimsFromStore } from './store-claims.ts';
import type { StoreClaims } from './store-claims.ts';

/**
 * The store ranks before any other source: it is the cluster's own record of
 * which node holds a block, so a prefix a BGP peer announces for the same
 * destination loses to it (a learned-routes source should use a higher
 * number, e.g. 20).
 */
export const STORE_SOURCE_PRIORITY = 10;

export class StoreRouteSource implements RouteSource {
  readonly name = 'store';
  readonly priority = STORE_SOURCE_PRIORITY;
  readonly #store: ObjectStore;
  readonly #nodeName: string;
  readonly #ownOnly: boolean;

  /**
   * `ownOnly`: claim this node's own prefixes (their blackholes) and leave
   * other nodes' to another source, as when BGP is the routing fabric and a
   * route must follow what peers announce (and go when they withdraw it).
   */
  constructor(store: ObjectStore, nodeName: string, opts: { ownOnly?: boolean } = {}) {
    this.#store = store;
    this.#nodeName = nodeName;
    this.#ownOnly = opts.ownOnly ?? false;
  }

  ready(): Promise<void> {
    return this.#store.whenSynced('Node', 'IPAMBlock');
  }

  claims(): StoreClaims {
    const all = claimsFromStore({ nodeName: this.#nodeName, nodes: this.#store.list('Node'), blocks: this.#store.list('IPAMBlock') });
    if (!this.#ownOnly) return all;
    return { ...all, claims: all.claims.filter((c) => !c.peer), skipped: all.skipped.filter((s) => s.node === this.#nodeName) };
  }

  /** This node as its peers see it (claimsFromStore's `self`), for the mode's devices. */
  self(): Peer | undefined {
    return this.claims().self;
  }

  watch(onChange: () => void): () => void {
    return this.#store.subscribe((change) => {
      if (change.kind === 'Node' || change.kind === 'IPAMBlock') onChange();
    });
  }
}
