// Address tests the tracer needs, on node:net's BlockList (no hand-written
// IP parsing).

import { BlockList, isIPv6 } from 'node:net';

/** BlockList's name of the family. */
const blockListType = (ip: string): 'ipv4' | 'ipv6' => (isIPv6(ip) ? 'ipv6' : 'ipv4');

/** `cidr` may be a bare address (iptables-save prints /32, restore input may omit it). */
export function inCidr(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  const net = slash < 0 ? cidr : cidr.slice(0, slash);
  const type = blockListType(net);
  if (blockListType(ip) !== type) return false;
  const prefix = slash < 0 ? (type === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1));
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return list.check(ip, type);
}

/** addrtype LOCAL: an address of this node, loopback included (it is in the local routing table). */
export function isLocalAddress(ip: string, localAddresses: readonly string[]): boolean {
  if (inCidr(ip, '127.0.0.0/8') || ip === '::1') return true;
  return localAddresses.includes(ip);
}
