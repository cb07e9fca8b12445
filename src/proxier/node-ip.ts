// This node's IP per family, as kube-proxy's detectNodeIPs picks it: the
// first InternalIP of the family in the Node object, else its first
// ExternalIP (GetNodeHostIPs), else loopback. On Linux kube-proxy uses it for
// one thing only: whether a loadBalancerSourceRanges entry covers the node.

import { BlockList } from 'node:net';
import type { Node } from '../k8s/objects.ts';
import { familyOf } from '../base/family.ts';
import { ofFamily } from './ip-family.ts';
import type { Family } from './plan.ts';

/** The node's primary address of `family` from its Node object, if it has one. */
export function primaryNodeIP(node: Node | undefined, family: Family): string | undefined {
  if (!node) return undefined;
  return ofFamily(node.internalIPs, family)[0] ?? ofFamily(node.externalIPs, family)[0];
}

/** kube-proxy's node IP: the primary one, or loopback when the Node object has none (its default). */
export function nodeIPOf(node: Node | undefined, family: Family): string {
  return primaryNodeIP(node, family) ?? (family === 6 ? '::1' : '127.0.0.1');
}

/** Whether any of `cidrs` (of the address's family; host bits allowed, as Go's ParseCIDR) holds `ip`. */
export function cidrsContain(cidrs: readonly string[], ip: string): boolean {
  const family = familyOf(ip);
  if (family === 0) return false;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (familyOf(net) !== family || !Number.isInteger(prefix)) continue;
    try {
      list.addSubnet(net, prefix, type);
    } catch {
      // An out-of-range prefix covers nothing; the plan builder drops nothing else for it.
    }
  }
  return list.check(ip, type);
}
