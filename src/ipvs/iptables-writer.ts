// Writes the IPVS mode's iptables chains through the iptables mode's restore
// path (iptables/restore.ts): one `iptables-restore --noflush` rewriting its
// chains whole, and on a full sync the jumps from the built-in chains that
// are missing (read with iptables-save, inserted as kube-proxy does).

import { missingJumps } from '../iptables/render-fixed.ts';
import { IptablesSaveError, restore, rulesOf } from '../iptables/restore.ts';
import { runTool } from '../base/run-tool.ts';
import type { IptablesTools } from '../iptables/tools.ts';
import { IPVS_JUMP_RULES, ipvsRulesText } from './iptables-rules.ts';
import type { IpvsRulesContext } from './iptables-rules.ts';

export interface IpvsRulesWriter {
  /** Rewrites the chains; with `checkJumps`, also puts back missing jumps from the built-in chains. */
  write(ctx: IpvsRulesContext, checkJumps: boolean): Promise<void>;
  /** Whether the kernel still has the chains `ctx` writes (their rule counts) and the jumps to them. */
  intact(ctx: IpvsRulesContext): Promise<boolean>;
}

/** iptables-save text of every table → each table's part ("*nat" … "COMMIT"). */
export function tableSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/^\*/m).slice(1)) out.set(part.slice(0, part.indexOf('\n')), `*${part}`);
  return out;
}

/** Rules per chain in restore text ("-A CHAIN …" lines) by table. */
export function ruleCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('-A ')) {
      const key = `${table} ${line.slice(3, line.indexOf(' ', 3))}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
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
    const tables = await this.#saveAll();
    for (const table of ['nat', 'filter'] as const) {
      const missing = missingJumps(table, rulesOf(tables.get(table) ?? '', BUILTINS[table]), IPVS_JUMP_RULES);
      if (missing.length) lines.push(`*${table}`, ...missing, 'COMMIT');
    }
    if (lines.length) await restore(this.tools, `${lines.join('\n')}\n`);
  }

  async intact(ctx: IpvsRulesContext): Promise<boolean> {
    const want = ruleCounts(ipvsRulesText(ctx));
    const tables = await this.#saveAll();
    for (const table of ['nat', 'filter'] as const) {
      const text = tables.get(table) ?? '';
      const chains = [...want.keys()].filter((k) => k.startsWith(`${table} `)).map((k) => k.slice(table.length + 1));
      const held = ruleCounts(`*${table}\n${rulesOf(text, chains).join('\n')}`);
      for (const c of chains) if (held.get(`${table} ${c}`) !== want.get(`${table} ${c}`)) return false;
      if (missingJumps(table, rulesOf(text, BUILTINS[table]), IPVS_JUMP_RULES).length > 0) return false;
    }
    return true;
  }

  /**
   * One iptables-save of every table, not one per table: in a small VM
   * starting the process is most of the cost (the chains netlet reads are
   * a few dozen rules; the other tables are the node's own, usually small).
   */
  async #saveAll(): Promise<Map<string, string>> {
    const r = await runTool(this.tools.save, []);
    if (r.code !== 0) throw new IptablesSaveError(this.tools.save, r.stderr);
    return tableSections(r.stdout);
  }
}
