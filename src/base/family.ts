// IP families as netlet's rooms name them: 4 and 6 (the kernel's AF_INET and
// AF_INET6 live in netlink/, the API's "IPv4"/"IPv6" in k8s/).
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** 4 or 6 for an address or a CIDR (its address part), 0 when it is neither. */
export function familyOf(ipOrCidr: string): Family | 0 {
  const slash = ipOrCidr.indexOf('/');
  const ip = slash < 0 ? ipOrCidr : ipOrCidr.slice(0, slash);
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return 0;
}

/** The family of a bare address that must be one: a TypeError naming it otherwise. */
export function familyOfAddress(ip: string): Family {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  throw new TypeError(`not an IP address: '${ip}'`);
}
