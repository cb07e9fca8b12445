// Which iptables programs to run: the nft or the legacy backend, IPv4 or IPv6.

import type { Family } from '../proxier/plan.ts';

export type IptablesMode = 'nft' | 'legacy';

export interface IptablesTools {
  mode: IptablesMode;
  family: Family;
  restore: string;
  save: string;
}

export function toolsFor(mode: IptablesMode, family: Family): IptablesTools {
  const base = family === 6 ? 'ip6tables' : 'iptables';
  return { mode, family, restore: `${base}-${mode}-restore`, save: `${base}-${mode}-save` };
}
