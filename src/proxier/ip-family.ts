import { isIPv4, isIPv6 } from 'node:net';
import type { IPFamilyNumber } from './plan.ts';

/** 4, 6, or 0 when `ip` is not an address (a CIDR's address part counts). */
export function familyOf(ipOrCidr: string): IPFamilyNumber | 0 {
  const ip = ipOrCidr.split('/')[0];
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return 0;
}

export function ofFamily(values: readonly string[], family: IPFamilyNumber): string[] {
  return values.filter((v) => familyOf(v) === family);
}

/** config.proxy.clusterCIDR: comma separated, one per family at most (kube-proxy allows "v4,v6"). */
export function parseCIDRList(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
