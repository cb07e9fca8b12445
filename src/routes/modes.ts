// How another node's pod block is reached. One strategy per routes.mode;
// `direct` (flannel host-gw) sends it straight to the node's InternalIP,
// which must be on a shared link. IPIP (tunl0) and VXLAN slot in here: they
// route the same blocks through a tunnel device with `onlink` next hops, and
// a BGP speaker replaces the planner's source, not the syncer.

import { familyOf } from '../base/family.ts';
import type { Node } from '../k8s/objects.ts';
import type { Family, NodeRoute } from './route-table.ts';

export interface RouteMode {
  readonly name: string;
  /** The route to `dst` (a block or podCIDR of `node`), or a reason why there is none. */
  routeTo(dst: string, family: Family, node: Node): NodeRoute | { skip: string };
}

/** The node's first InternalIP of a family: what kubelet reports and what host-gw routes use. */
export function nodeAddress(node: Node, family: Family): string | undefined {
  return node.internalIPs.find((ip) => familyOf(ip) === family);
}

export const directMode: RouteMode = {
  name: 'direct',
  routeTo(dst, family, node) {
    const gateway = nodeAddress(node, family);
    if (!gateway) return { skip: `node ${node.meta.name} has no IPv${family} InternalIP` };
    return { dst, family, type: 'unicast', gateway };
  },
};

export function routeMode(name: string): RouteMode {
  if (name === 'direct') return directMode;
  throw new Error(`routes mode ${JSON.stringify(name)} is not implemented (known: direct)`);
}
