// Runs iptables-restore / iptables-save. One process per restore, its input
// on stdin (ARCHITECTURE.md: kernel work goes through iptables-restore, never
// one `iptables` process per rule), started by posix_spawn (run-tool.ts).

import { NetletError } from '../errors.ts';
import { runTool as run } from '../run-tool.ts';
import type { IptablesTools } from './tools.ts';

export class IptablesRestoreError extends NetletError {
  readonly line: number;
  readonly context: string;

  constructor(tool: string, stderr: string, input: string) {
    // iptables-restore names the failing line: "line 1234 failed" (legacy), "line 12: …" (nft).
    const m = /line (\d+)/.exec(stderr);
    const line = m ? Number(m[1]) : 0;
    const lines = input.split('\n');
    const context = line > 0 ? lines.slice(Math.max(0, line - 3), line + 2).join('\n') : '';
    super('ERR_IPTABLES_RESTORE', `${tool} failed: ${stderr.trim() || 'no message'}${context ? `\naround line ${line}:\n${context}` : ''}`);
    this.line = line;
    this.context = context;
  }
}

export class IptablesSaveError extends NetletError {
  constructor(tool: string, stderr: string) {
    super('ERR_IPTABLES_SAVE', `${tool} failed: ${stderr.trim() || 'no message'}`);
  }
}

/**
 * `iptables-restore --noflush`: tables and chains not named in `input` are
 * left alone; a chain named with `:CHAIN` is created or flushed. The whole
 * input is one transaction per table. No `--counters`: the input carries no
 * counters worth keeping (user chains always show [0:0], and rewritten rules
 * start from zero anyway; kube-proxy dropped it for that reason, kubernetes#110328).
 */
export async function restore(tools: IptablesTools, input: string): Promise<void> {
  const r = await run(tools.restore, ['-w', '5', '--noflush'], input);
  if (r.code !== 0) throw new IptablesRestoreError(tools.restore, r.stderr, input);
}

/** `iptables-save -t TABLE` text. */
export async function save(tools: IptablesTools, table: string): Promise<string> {
  const r = await run(tools.save, ['-t', table], undefined);
  if (r.code !== 0) throw new IptablesSaveError(tools.save, r.stderr);
  return r.stdout;
}

/**
 * One pass over `iptables-save -t TABLE` text: the chains it declares
 * (`:NAME POLICY [p:b]`) and the `-A` lines of the given built-in chains.
 * Walks the lines with indexOf rather than split('\n'): at 10k services the
 * nat table is ~110,000 lines, and a full sync reads it every time.
 */
export function parseSave(saveText: string, builtins: readonly string[] = []): { chains: Set<string>; rules: string[] } {
  const chains = new Set<string>();
  const rules: string[] = [];
  const prefixes = builtins.map((c) => `-A ${c} `);
  for (let start = 0; start < saveText.length; ) {
    let end = saveText.indexOf('\n', start);
    if (end < 0) end = saveText.length;
    const first = saveText.charCodeAt(start);
    if (first === 58 /* ':' */) {
      const space = saveText.indexOf(' ', start);
      chains.add(saveText.slice(start + 1, space > start && space < end ? space : end));
    } else if (first === 45 /* '-' */ && prefixes.some((p) => saveText.startsWith(p, start))) {
      rules.push(saveText.slice(start, end));
    }
    start = end + 1;
  }
  return { chains, rules };
}

/** Chain names declared in iptables-save output (`:NAME POLICY [p:b]`). */
export function chainsOf(saveText: string): Set<string> {
  return parseSave(saveText).chains;
}

/** The `-A` lines of the given built-in chains. */
export function rulesOf(saveText: string, chains: readonly string[]): string[] {
  return parseSave(saveText, chains).rules;
}

/**
 * Whether our canary chain still exists in `table`. It vanishes when someone
 * deletes the table's chains (a firewall reload, `iptables -X`); then the
 * shared chains' references may point nowhere and a full sync is needed.
 * One `iptables -S CHAIN`: lists a single chain, cheap at any table size.
 * Exit 1 means no such chain; anything else (4: the xtables lock was not
 * had in time) says nothing about the chain and throws, so a busy lock is
 * never taken for a flush (kube-proxy's isResourceError does the same).
 */
export async function chainExists(tools: IptablesTools, table: string, chain: string): Promise<boolean> {
  const cmd = tools.restore.replace(/-restore$/, '');
  const r = await run(cmd, ['-w', '5', '-t', table, '-S', chain], undefined);
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new NetletError('ERR_IPTABLES_CHECK', `${cmd} -t ${table} -S ${chain} failed (exit ${r.code}): ${r.stderr.trim() || 'no message'}`);
}
