// Renders plans the way a first full sync on an empty node would (jumps
// included), for tests that read or trace the restore input.

import type { PlanSet } from '../../../src/proxier/plan.ts';
import type { RenderContext } from '../../../src/iptables/render-context.ts';
import { missingJumps } from '../../../src/iptables/render-fixed.ts';
import { renderSync } from '../../../src/iptables/render-sync.ts';

export const ctx4: RenderContext = { family: 4, masqMark: '0x4000', nodePortAddresses: [], tcpBeLiberal: false, largeCluster: false };

export function renderFirstSync(plans: PlanSet, ctx: RenderContext = ctx4): string {
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
