// Writes the IPVS mode's iptables chains through the iptables mode's restore
// path (iptables/restore.ts): one `iptables-restore --noflush` rewriting its
// chains whole, and on a full sync the jumps from the built-in chains that
// are missing (read with iptables-save, inserted as kube-proxy does).

import { missingJumps } from '../iptables/render-fixed.ts';
import { restore, rulesOf, save } from '../iptables/restore.ts';
import type { IptablesTools } from '../iptables/tools.ts';
import { IPVS_JUMP_RULES, ipvsRulesText } from './iptables-rules.ts';
import type { IpvsRulesContext } from './iptables-rules.ts';

export interface IpvsRulesWriter {
  /** Rewrites the chains; with `checkJumps`, also puts back missing jumps from the built-in chains. */
  write(ctx: IpvsRulesContext, checkJumps: boolean): Promise<void>;
}

const BUILTINS = { nat: ['PREROUTING', 'OUTPUT', 'POSTROUTING'], filter: ['INPUT', 'FORWARD', 'OUTPUT'] } as const;

export class IptablesRulesWriter implements IpvsRulesWriter {
  readonly tools: IptablesTools;

  constructor(tools: IptablesTools) {
    this.tools = tools;
  }

  async write(ctx: IpvsRulesContext, checkJumps: boolean): Promise<void> {
    // The chains first: a jump needs its target to exist.
    await restore(this.tools, ipvsRulesText(ctx));
    if (!checkJumps) return;
    const lines: string[] = [];
    for (const table of ['nat', 'filter'] as const) {
      const missing = missingJumps(table, rulesOf(await save(this.tools, table), BUILTINS[table]), IPVS_JUMP_RULES);
      if (missing.length) lines.push(`*${table}`, ...missing, 'COMMIT');
    }
    if (lines.length) await restore(this.tools, `${lines.join('\n')}\n`);
  }
}
