import { familyOf } from '../base/family.ts';
import type { Family } from '../base/family.ts';

export function ofFamily(values: readonly string[], family: Family): string[] {
  return values.filter((v) => familyOf(v) === family);
}

/** config.proxy.clusterCIDR: comma separated, one per family at most (kube-proxy allows "v4,v6"). */
export function parseCIDRList(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
