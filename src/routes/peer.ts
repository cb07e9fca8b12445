// Another node as a route mode sees it: a name and where to send its
// packets. Modes take this instead of a k8s Node so that a source which knows
// no Node object (a BGP speaker learns a prefix and a next hop) can hand its
// prefixes to the same mode.

import { familyOf } from '../base/family.ts';
import type { Family } from '../base/family.ts';
import type { Node } from '../k8s/objects.ts';

export interface Peer {
  /** The node's name; peers are told apart by it (one neighbour/FDB entry set per name). */
  name: string;
  /** Underlay address per family (a node's InternalIP, a BGP next hop): where direct routes go and where tunnels send to. */
  addresses: Partial<Record<Family, string>>;
  /**
   * The peer's end of a tunnel, for tunnel modes (issue 16): its address on
   * the tunnel device per family (the `via ... onlink` next hop of VXLAN
   * routes) and the device's MAC (VXLAN's permanent neighbour and FDB
   * entries). Absent while no source knows them; a tunnel mode then skips
   * the peer's prefixes.
   */
  tunnel?: { addresses: Partial<Record<Family, string>>; mac?: string };
}

/** The node's first InternalIP of a family: what kubelet reports and what host-gw routes use. */
function nodeAddress(node: Node, family: Family): string | undefined {
  return node.internalIPs.find((ip) => familyOf(ip) === family);
}

/** A Node as a peer: its first InternalIP of each family. */
export function peerOfNode(node: Node): Peer {
  const addresses: Peer['addresses'] = {};
  for (const family of [4, 6] as const) {
    const ip = nodeAddress(node, family);
    if (ip) addresses[family] = ip;
  }
  return { name: node.meta.name, addresses };
}
