// Which plan makes the kernel refuse a restore at its COMMIT line. Legacy
// iptables-restore hands a whole table to the kernel at COMMIT, and what the
// kernel refuses then (a match or target whose kernel-side check fails, a
// match module the kernel lacks) is reported as "line N failed" with N the
// COMMIT line: no plan wrote that line (failed-line.ts finds none), and the
// whole sync failed, every service with it (issue 13).
//
// So the plans are bisected: a full restore of a subset of them, with the
// fixed chains, is tried in a network namespace of its own (`unshare --net`,
// which takes the CAP_SYS_ADMIN the agent already has for the CNI fast path),
// where it can fail or succeed without touching a rule of the node's. The
// kernel's checks of a rule do not depend on the namespace (its modules are
// the node's), so a plan refused there is refused here. About 2·log2(N)
// restores of up to N/2 plans: a cost paid only after such a failure.

import type { Logger } from '../base/log.ts';
import { runTool } from '../base/run-tool.ts';
import type { PlanSet } from '../proxier/plan.ts';
import type { RenderContext } from './render-context.ts';
import { missingJumps } from './render-fixed.ts';
import { renderSync } from './render-sync.ts';
import type { IptablesTools } from './tools.ts';

/** Whether `input` loads into empty tables (false also when it cannot be tried). */
export type RestoreProbe = (tools: IptablesTools, input: string) => Promise<boolean>;

/** A restore into a fresh network namespace: nothing of the node's is read or changed. */
export const probeInOwnNamespace: RestoreProbe = async (tools, input) => {
  try {
    return (await runTool('unshare', ['--net', '--', tools.restore, '-w', '5'], input)).code === 0;
  } catch {
    return false; // no unshare: the probe of the fixed rules alone fails, and no plan is named
  }
};

/** The complete restore input of `plans` into empty tables: fixed chains, jumps, every plan's chains. */
export function fullInput(plans: PlanSet, ctx: RenderContext): string {
  const out = renderSync({
    plans,
    rewrite: new Set(plans.keys()),
    previous: new Map(),
    ctx,
    staleChains: () => [],
    missingJumps: { nat: missingJumps('nat', []), filter: missingJumps('filter', []) },
    chunkPlans: 0,
  });
  return out.inputs.join('');
}

/**
 * The key of the one plan whose rules the kernel refuses, or undefined when
 * none can be named: the fixed rules alone fail (or no namespace of its own
 * can be made), the whole set loads there (the failure depends on the
 * node's state, not on a plan), or only plans of both halves together fail.
 */
export async function planRefusedAtCommit(tools: IptablesTools, plans: PlanSet, ctx: RenderContext, log: Logger, probe: RestoreProbe = probeInOwnNamespace): Promise<string | undefined> {
  let probes = 0;
  const fails = async (keys: readonly string[]): Promise<boolean> => {
    probes++;
    const subset: PlanSet = new Map();
    for (const k of keys) subset.set(k, plans.get(k)!);
    return !(await probe(tools, fullInput(subset, ctx)));
  };
  const done = (key: string | undefined, why: string): string | undefined => {
    log.info({ family: tools.family, plans: plans.size, probes, plan: key }, `restore failure at COMMIT: ${why}`);
    return key;
  };
  if (await fails([])) return done(undefined, 'the fixed rules alone fail in a namespace of their own (or none can be made); no plan to name');
  let suspects = [...plans.keys()];
  if (!(await fails(suspects))) return done(undefined, 'every plan loads in a namespace of its own; the failure comes from the node\'s state, no plan to name');
  while (suspects.length > 1) {
    const half = suspects.slice(0, suspects.length >> 1);
    const rest = suspects.slice(half.length);
    if (await fails(half)) suspects = half;
    else if (await fails(rest)) suspects = rest;
    else return done(undefined, 'only plans of both halves together fail; no one plan to name');
  }
  return done(suspects[0], 'traced to one plan by bisection');
}
