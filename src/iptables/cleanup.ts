// Removes netlet's (= kube-proxy's) chains and the jumps to them, and nothing
// else: one iptables-save per table to see what is there, one restore that
// deletes the jump rules (by their exact text) and then flushes and deletes
// the chains chain-names.ts calls ours. Foreign rules are never named, so
// --noflush leaves them alone.

import { isOwnedChain } from './chain-names.ts';
import { restore, save } from './restore.ts';
import { toolsFor } from './tools.ts';
import type { IptablesMode, IptablesTools } from './tools.ts';
import type { Family } from '../proxier/plan.ts';

const TABLES = ['nat', 'filter', 'mangle'] as const;

/** The restore input that removes our state from one table's iptables-save text, or '' if nothing is ours. */
export function cleanupInput(table: string, saveText: string, opts: { kubeProxy?: boolean } = {}): string {
  const owned: string[] = [];
  const deletes: string[] = [];
  for (const line of saveText.split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1, line.indexOf(' '));
      if (isOwnedChain(table, name, opts)) owned.push(name);
    }
  }
  if (owned.length === 0) return '';
  const ownedSet = new Set(owned);
  for (const line of saveText.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const chain = line.slice(3, line.indexOf(' ', 3));
    if (ownedSet.has(chain)) continue; // goes with the chain's flush
    const target = /(?:^| )-[jg] (\S+)/.exec(line)?.[1];
    // A rule in someone else's chain that jumps into ours: delete it by its exact text.
    if (target && ownedSet.has(target)) deletes.push(`-D ${line.slice(3)}`);
  }
  return [`*${table}`, ...owned.map((c) => `:${c} - [0:0]`), ...deletes, ...owned.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/** Cleans the nat, filter and mangle tables of one backend and family. Returns the number of chains removed. */
export async function cleanupTables(tools: IptablesTools, opts: { kubeProxy?: boolean } = {}): Promise<number> {
  let removed = 0;
  for (const table of TABLES) {
    let text: string;
    try {
      text = await save(tools, table);
    } catch {
      continue; // table module not loaded: nothing of ours there
    }
    const input = cleanupInput(table, text, opts);
    if (!input) continue;
    await restore(tools, input);
    removed += input.split('\n').filter((l) => l.startsWith('-X ')).length;
  }
  return removed;
}

export interface CleanupReport {
  mode: IptablesMode;
  family: Family;
  removedChains: number;
  error?: string;
}

/** Both backends, both families: kube-proxy may have used either. */
export async function cleanupAll(opts: { kubeProxy?: boolean } = {}): Promise<CleanupReport[]> {
  const reports: CleanupReport[] = [];
  for (const mode of ['nft', 'legacy'] as const) {
    for (const family of [4, 6] as const) {
      try {
        reports.push({ mode, family, removedChains: await cleanupTables(toolsFor(mode, family), opts) });
      } catch (err) {
        reports.push({ mode, family, removedChains: 0, error: (err as Error).message });
      }
    }
  }
  return reports;
}
