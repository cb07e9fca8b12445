// Which plan wrote a line iptables-restore refused. The restore error names
// the line (restore.ts); rendering the plans again finds the one whose text
// holds it, so the proxier can leave that one out and load the rest
// (issue 13: one bad object must not break every service). Run only after a
// failed restore: it renders every plan once more.

import type { PlanSet } from '../proxier/plan.ts';
import type { RenderContext } from './render-context.ts';
import { TOP_KEYS, renderChains, renderTop, shapeOf } from './render-service.ts';

/**
 * The key of the plan whose rules or chain declarations include `line`, or
 * undefined when none does (a fixed rule, COMMIT, a table line: nothing to
 * leave out).
 */
export function planWritingLine(plans: PlanSet, line: string, ctx: RenderContext): string | undefined {
  const wanted = line.trim();
  if (!wanted || wanted === 'COMMIT' || wanted.startsWith('*')) return undefined;
  for (const [key, plan] of plans) {
    let shape;
    try {
      shape = shapeOf(plan);
    } catch {
      continue; // refused before any of its text was written: not the writer of this line
    }
    const top = renderTop(shape);
    for (const k of TOP_KEYS) if (top[k].includes(wanted)) return key;
    const own = renderChains(shape, ctx);
    if (own.rules.includes(wanted)) return key;
    for (const chain of own.chains) if (wanted === `:${chain} - [0:0]`) return key;
  }
  return undefined;
}
