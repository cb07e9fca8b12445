// Another node as a route mode sees it: a name and where to send its
// packets. Modes take this instead of a k8s Node so that a source which knows
// no Node object (a BGP speaker learns a prefix and a next hop) can hand its
// prefixes to the same mode.

import { familyOf } from '../base/family.ts';
import type { Family } from '../base/family.ts';
import type { Node } from '../k8s/objects.ts';
import { parseCidr, networkOf } from '../netlink/ip.ts';
import { derivedVtepMac } from './vtep-mac.ts';

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

/**
 * A node's tunnel address per family, from the prefixes it owns (its blocks,
 * or its podCIDRs): the network address of its first prefix of the family
 * in prefix order. Every node computes it alike from the store, so no node
 * has to publish it. The network address (flannel's choice for flannel.1)
 * because netlet's IPAM never hands it to a pod (ipam/block.ts, offset 0)
 * and the bridge holds the next one as the pods' gateway.
 */
export function tunnelAddresses(prefixes: readonly string[]): Partial<Record<Family, string>> {
  const out: Partial<Record<Family, string>> = {};
  for (const p of [...prefixes].sort()) {
    const family = familyOf(p);
    if (family === 0 || out[family]) continue;
    out[family] = parseCidr(networkOf(p)).ip;
  }
  return out;
}

/**
 * A Node as a peer: its first InternalIP of each family, and its end of the
 * tunnels: the tunnel addresses of `prefixes` (the prefixes the node owns)
 * and its VXLAN MAC, published on the Node or derived from its name.
 */
export function peerOfNode(node: Node, prefixes: readonly string[] = []): Peer {
  const addresses: Peer['addresses'] = {};
  for (const family of [4, 6] as const) {
    const ip = nodeAddress(node, family);
    if (ip) addresses[family] = ip;
  }
  return { name: node.meta.name, addresses, tunnel: { addresses: tunnelAddresses(prefixes), mac: node.vxlanMac ?? derivedVtepMac(node.meta.name) } };
}
