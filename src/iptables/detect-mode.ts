// Which iptables backend the node already uses. Rules written with one
// backend are invisible to the other, and the kernel runs both: a proxy
// writing nft rules on a node whose CNI wrote legacy ones (or the reverse)
// produces two half rule sets. So, like kubernetes-sigs/iptables-wrappers:
// 1. a kubelet hint chain (KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY) in mangle
//    names the backend kubelet uses;
// 2. else the backend holding more rules wins;
// 3. else nft, the default of current distributions, when it works on this
//    kernel (else legacy).

import { spawn } from 'node:child_process';
import type { Family } from '../proxier/plan.ts';
import { toolsFor } from './tools.ts';
import type { IptablesMode } from './tools.ts';

function saveOutput(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', () => resolve(''));
    child.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
  });
}

const HINT_CHAINS = [':KUBE-IPTABLES-HINT ', ':KUBE-KUBELET-CANARY '];

export interface ModeEvidence {
  mode: IptablesMode;
  reason: string;
}

export async function detectMode(family: Family = 4): Promise<ModeEvidence> {
  const modes: IptablesMode[] = ['legacy', 'nft'];
  const mangle = await Promise.all(modes.map((m) => saveOutput(toolsFor(m, family).save, ['-t', 'mangle'])));
  for (let i = 0; i < modes.length; i++) {
    if (HINT_CHAINS.some((h) => mangle[i].includes(h))) return { mode: modes[i], reason: `kubelet hint chain found in ${modes[i]} mangle table` };
  }
  const all = await Promise.all(modes.map((m) => saveOutput(toolsFor(m, family).save, [])));
  const counts = all.map((text) => text.split('\n').filter((l) => l.startsWith('-A ')).length);
  if (counts[0] > counts[1]) return { mode: 'legacy', reason: `legacy holds ${counts[0]} rules, nft ${counts[1]}` };
  if (counts[1] > 0) return { mode: 'nft', reason: `nft holds ${counts[1]} rules, legacy ${counts[0]}` };
  // A kernel whose nf_tables has no ip tables (User-Mode Linux's 6.1, or
  // without nf_tables at all) fails every iptables-nft command: use legacy there.
  const nftError = await nftFailure(family);
  if (nftError) return { mode: 'legacy', reason: `iptables-nft does not work on this kernel (${nftError}); legacy` };
  return { mode: 'nft', reason: 'no rules in either backend; nft is the default' };
}

/** Why `iptables-nft-save` fails here, or '' when it works. */
function nftFailure(family: Family): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(toolsFor('nft', family).save, ['-t', 'filter'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code) => resolve(code === 0 ? '' : Buffer.concat(err).toString('utf8').trim() || `exit ${code}`));
  });
}

/** NETLET_IPTABLES_MODE=nft|legacy overrides detection (for nodes where both hold rules). */
export function modeOverride(): IptablesMode | undefined {
  const v = process.env.NETLET_IPTABLES_MODE;
  return v === 'nft' || v === 'legacy' ? v : undefined;
}
