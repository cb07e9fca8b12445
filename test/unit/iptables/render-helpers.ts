// Renders plans the way a first full sync on an empty node would (jumps
// included), for tests that read or trace the restore input: the same input
// the COMMIT bisection restores into an empty namespace.

import type { PlanSet } from '../../../src/proxier/plan.ts';
import type { RenderContext } from '../../../src/iptables/render-context.ts';
import { fullInput } from '../../../src/iptables/commit-bisect.ts';

export const ctx4: RenderContext = { family: 4, masqMark: '0x4000', nodePortAddresses: [], tcpBeLiberal: false, largeCluster: false };

export function renderFirstSync(plans: PlanSet, ctx: RenderContext = ctx4): string {
  return fullInput(plans, ctx);
}
