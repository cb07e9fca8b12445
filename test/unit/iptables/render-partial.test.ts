// renderPartial must write exactly what renderSync writes for the same
// partial sync, and step aside (undefined) whenever the shared chains could
// change, so the fast path never decides anything renderSync would not.
import t from 'tap';
import type * as Tap from 'tap';
import { renderContextKey, renderPartial } from '../../../src/iptables/render-partial.ts';
import { renderSync } from '../../../src/iptables/render-sync.ts';
import type { RenderedPlan, SyncRender } from '../../../src/iptables/render-sync.ts';
import type { RenderContext } from '../../../src/iptables/render-context.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { PlanSet, ServicePortPlan } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from './plans.ts';
import { ctx4 } from './render-helpers.ts';

const web = plan('default', 'web', { clusterIP: '10.96.0.10', nodePort: 30080, clusterEndpoints: [ep('10.244.1.2', 8080), ep('10.244.2.2', 8080)] });
const api = plan('default', 'api', { clusterIP: '10.96.0.11', affinityTimeoutSeconds: 300, clusterEndpoints: [ep('10.244.1.3', 8443)] });
const local = plan('default', 'local', {
  clusterIP: '10.96.0.12', nodePort: 30082, externalTraffic: 'local',
  clusterEndpoints: [ep('10.244.1.4', 80, { isLocal: true }), ep('10.244.2.4', 80)], localEndpoints: [ep('10.244.1.4', 80, { isLocal: true })],
});

/** A full sync, then the same change through renderSync (as a partial) and through renderPartial. */
function both(before: PlanSet, after: PlanSet, changed: string[], ctx: RenderContext = ctx4, ctxBefore: RenderContext = ctx4) {
  const first = renderSync({ plans: before, rewrite: new Set(before.keys()), previous: new Map(), ctx: ctxBefore, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 0 });
  const slow = renderSync({
    plans: after, rewrite: new Set(changed.filter((k) => after.has(k))), previous: first.rendered, ctx,
    staleChains: (rendered) => changed.flatMap((k) => (first.rendered.get(k)?.chains ?? []).filter((c) => !(rendered.get(k)?.chains ?? []).includes(c))),
    missingJumps: { nat: [], filter: [] }, chunkPlans: 0, previousShared: first.shared,
  });
  const previous = new Map<string, RenderedPlan>(first.rendered);
  const fast = renderPartial({
    plans: after, changed: new Set(changed), previous, previousShared: first.shared, ctx,
    previousTotals: { ruleCount: first.ruleCount, filterRuleCount: first.rulesByTable.filter, ctxKey: renderContextKey(ctxBefore) },
  });
  return { slow, fast };
}

const same = (t: Tap.Test, fast: SyncRender | undefined, slow: SyncRender) => {
  t.ok(fast, 'the fast path applies');
  t.same(fast!.inputs, slow.inputs, 'the same restore input');
  t.equal(fast!.ruleCount, slow.ruleCount, 'the same rule count');
  t.same(fast!.rulesByTable, slow.rulesByTable, 'the same rules per table');
  t.same(fast!.deleted, slow.deleted, 'the same deletions');
  t.same([...fast!.rendered.keys()].sort(), [...slow.rendered.keys()].sort(), 'the same plans rendered');
  for (const [k, r] of slow.rendered) t.same(fast!.rendered.get(k), r, `same render of ${k}`);
};
const withEndpoints = (p: ServicePortPlan, eps: ServicePortPlan['clusterEndpoints']) => plan(p.namespace, p.name, { ...p, clusterEndpoints: eps, allEndpoints: undefined, localEndpoints: p.localEndpoints });

t.test('the same text and totals as renderSync', async (t) => {
  for (const [name, after, changed] of [
    ['an endpoint replaced', planSet(withEndpoints(web, [ep('10.244.1.2', 8080), ep('10.244.3.9', 8080)]), api, local), [planKey(web)]],
    ['an endpoint added (affinity)', planSet(web, withEndpoints(api, [ep('10.244.1.3', 8443), ep('10.244.2.3', 8443)]), local), [planKey(api)]],
    ['two services at once', planSet(withEndpoints(web, [ep('10.244.9.9', 8080)]), withEndpoints(api, [ep('10.244.9.8', 8443)]), local), [planKey(web), planKey(api)]],
    ['a changed key whose plan is equal (nothing to write)', planSet(web, api, local), [planKey(web)]],
  ] as const) {
    t.test(name, async (t) => {
      const { slow, fast } = both(planSet(web, api, local), after, [...changed]);
      same(t, fast, slow);
    });
  }
});

t.test('steps aside whenever the shared chains could change', async (t) => {
  const base = planSet(web, api, local);
  const cases: [string, PlanSet, string[], RenderContext?][] = [
    ['a plan added', planSet(web, api, local, plan('default', 'new', { clusterIP: '10.96.0.13', clusterEndpoints: [ep('10.244.1.9', 80)] })), [planKey(plan('default', 'new'))]],
    ['a plan removed', planSet(web, api), [planKey(local)]],
    ['the last endpoint gone (KUBE-SERVICES now rejects)', planSet(withEndpoints(web, []), api, local), [planKey(web)]],
    ['a ClusterIP changed', planSet(plan('default', 'web', { ...web, clusterIP: '10.96.0.99' }), api, local), [planKey(web)]],
    ['node addresses changed', planSet(withEndpoints(web, [ep('10.244.3.9', 8080)]), api, local), [planKey(web)], { ...ctx4, nodePortAddresses: ['192.168.1.10'] }],
  ];
  for (const [name, after, changed, ctx] of cases) {
    const { slow, fast } = both(base, after, changed, ctx);
    t.equal(fast, undefined, `${name}: renderSync's way`);
    t.ok(slow.inputs.length > 0, `${name}: (which writes something)`);
  }
});
