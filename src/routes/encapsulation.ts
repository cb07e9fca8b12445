// When a tunnel mode encapsulates: always (Calico's `Always`), or only
// towards peers outside this node's own subnet (Calico's `CrossSubnet`: a
// peer on the same link is reached with a plain route, as direct mode does,
// and pays no tunnel overhead).
import { familyOf } from '../base/family.ts';
import { networkOf } from '../netlink/ip.ts';

export const ENCAPSULATIONS = ['always', 'cross-subnet'] as const;
export type Encapsulation = (typeof ENCAPSULATIONS)[number];

/** Whether `address` lies inside `subnet` (a CIDR such as the underlay's "192.168.1.10/24"). */
export function insideSubnet(address: string, subnet: string): boolean {
  if (familyOf(address) !== familyOf(subnet)) return false;
  const prefix = subnet.slice(subnet.indexOf('/'));
  return networkOf(`${address}${prefix}`) === networkOf(subnet);
}
