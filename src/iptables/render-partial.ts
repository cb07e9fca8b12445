// The common partial sync without walking every plan: when the changed plans
// keep their rules in the shared chains (an endpoint change: KUBE-SERVICES
// still jumps to the same KUBE-SVC chain) and the render context is the same,
// the shared chains are exactly as the last sync left them, so only the
// changed plans' own chains are rendered, not every plan as renderSync would
// (docs/design/iptables-sync.md#partial-syncs). Anything else (a plan
// added or removed, a ClusterIP or NodePort changed, new node addresses)
// returns undefined and goes the renderSync way.

import type { PlanSet } from '../proxier/plan.ts';
import type { RenderContext } from './render-context.ts';
import { renderChains, renderTop, sameTop, shapeOf } from './render-service.ts';
import type { RenderedPlan, SyncRender } from './render-sync.ts';

export interface PartialRenderInput {
  plans: PlanSet;
  /** Every key changed since the last successful sync (removed ones included). */
  changed: ReadonlySet<string>;
  /** The last sync's renders; updated in place and returned as `rendered` (the caller owns it). */
  previous: Map<string, RenderedPlan>;
  previousShared: Map<string, string>;
  /** The last sync's totals and context key (renderContextKey). */
  previousTotals: { ruleCount: number; filterRuleCount: number; ctxKey: string };
  ctx: RenderContext;
}

/** What of the context shows in the shared chains; equal keys render equal shared chains for equal plans. */
export function renderContextKey(ctx: RenderContext): string {
  return JSON.stringify([ctx.family, ctx.masqMark, ctx.nodePortAddresses, ctx.tcpBeLiberal, ctx.largeCluster]);
}

export function renderPartial(input: PartialRenderInput): SyncRender | undefined {
  const { plans, changed, previous, ctx } = input;
  if (input.previousTotals.ctxKey !== renderContextKey(ctx)) return undefined;
  const redone: [key: string, r: RenderedPlan, rules: string[]][] = [];
  for (const key of changed) {
    const plan = plans.get(key);
    const before = previous.get(key);
    if (!plan || !before) return undefined;
    const shape = shapeOf(plan);
    const top = renderTop(shape);
    if (!sameTop(top, before.top)) return undefined;
    const own = renderChains(shape, ctx);
    redone.push([key, { top, chains: own.chains, chainRuleCount: own.rules.length, plan }, own.rules]);
  }

  let ruleCount = input.previousTotals.ruleCount;
  let writtenRules = 0;
  const chainLines: string[] = [];
  const ruleLines: string[] = [];
  const deleted: string[] = [];
  for (const [key, r, rules] of redone) {
    const old = previous.get(key)!;
    // Chain names hash the plan key, so a changed plan's old chain can only still be in use by that plan.
    const now = new Set(r.chains);
    for (const c of old.chains) if (!now.has(c)) deleted.push(c);
    ruleCount += r.chainRuleCount - old.chainRuleCount;
    writtenRules += rules.length;
    for (const c of r.chains) chainLines.push(`:${c} - [0:0]`);
    for (const l of rules) ruleLines.push(l);
    previous.set(key, r);
  }
  const inputs: string[] = [];
  // The same text renderSync writes when no shared chain changed.
  if (chainLines.length + deleted.length > 0) {
    inputs.push(['*nat', ...deleted.map((c) => `:${c} - [0:0]`), ...chainLines, ...ruleLines, ...deleted.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n'));
  }
  const filter = input.previousTotals.filterRuleCount;
  return { inputs, rendered: previous, shared: input.previousShared, ruleCount, writtenRules, deleted, rulesByTable: { nat: ruleCount - filter, filter } };
}
