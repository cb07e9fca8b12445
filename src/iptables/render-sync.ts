// Assembles one sync's iptables-restore input from per-plan renders. Pure: the
// backend decides which plans to re-render and which chains are stale.

import type { PlanSet } from '../proxier/plan.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_PROXY_FIREWALL,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_SERVICES,
} from './chain-names.ts';
import type { RenderContext } from './render-context.ts';
import { filterForwardRules, natFixedRules, nodePortsDispatch } from './render-fixed.ts';
import { renderChains, renderTop, shapeOf } from './render-service.ts';
import type { TopRules } from './render-service.ts';

/** What a plan rendered to, kept between syncs so unchanged plans are not rendered again. */
export interface RenderedPlan {
  top: TopRules;
  /** The plan's own nat chains. */
  chains: string[];
  /** Rules in those chains (for the rule-count metric when they are not rewritten). */
  chainRuleCount: number;
}

export interface SyncRender {
  /**
   * Restore inputs to apply in order. All but the last hold only service
   * chains that nothing references yet (or rewrites that keep references
   * valid); the last holds filter and the shared nat chains, the missing
   * jumps, and the deletions, so every intermediate state is consistent.
   */
  inputs: string[];
  rendered: Map<string, RenderedPlan>;
  ruleCount: number;
  /** Rules written this sync (for the partial-sync size). */
  writtenRules: number;
  deleted: string[];
  rulesByTable: { nat: number; filter: number };
  /** Each shared chain's rules as written (or kept), for the next sync's `previousShared`. */
  shared: Map<string, string>;
}

export interface SyncRenderInput {
  plans: PlanSet;
  /** Keys whose chains are (re)written; every other plan must be in `previous`. */
  rewrite: ReadonlySet<string>;
  previous: ReadonlyMap<string, RenderedPlan>;
  ctx: RenderContext;
  /**
   * The stale nat chains to flush and delete. `isActive(chain)`: whether a
   * plan now uses it (the set of every chain is built on the first call
   * only: 40,000 entries at 10,000 services, over half of a partial sync's
   * render time); `rendered`: what each plan renders to now.
   */
  staleChains: (isActive: (chain: string) => boolean, rendered: ReadonlyMap<string, RenderedPlan>) => string[];
  missingJumps: { nat: readonly string[]; filter: readonly string[] };
  /** Split service chains into restores of at most this many plans (0: one restore). */
  chunkPlans: number;
  /**
   * The shared chains' rules at the last successful sync ("table/CHAIN" →
   * text); a chain whose rules are unchanged is left out. Absent on full syncs.
   */
  previousShared?: ReadonlyMap<string, string>;
}

/** All of one sync's restore inputs at once (partial syncs, tests). */
export function renderSync(input: SyncRenderInput): SyncRender {
  const steps = renderSyncSteps(input);
  const early: string[] = [];
  for (;;) {
    const step = steps.next();
    if (step.done) return { ...step.value, inputs: [...early, ...step.value.inputs] };
    early.push(step.value);
  }
}

/**
 * The same, as it is rendered: yields each chunk's restore input as soon as
 * its plans are rendered and returns the rest (the final input in
 * `inputs`). A full sync applies each chunk before the next is rendered, so
 * only one chunk's text is alive at a time: rendered whole first, the
 * chunks of a full sync at 10k services were ~35 MB of the agent's peak.
 */
export function* renderSyncSteps(input: SyncRenderInput): Generator<string, SyncRender, void> {
  const { plans, rewrite, previous, ctx } = input;
  const rendered = new Map<string, RenderedPlan>();
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const filterServices: string[] = [];
  const filterExternal: string[] = [];
  const filterNodePorts: string[] = [];
  const filterFirewall: string[] = [];
  let current = { chains: [] as string[], rules: [] as string[] };
  let plansInChunk = 0;
  let chunksYielded = 0;
  const natFixed = natFixedRules(ctx);
  // Service chains jump to KUBE-MARK-MASQ, which must exist (and mark) before
  // the first of them is loaded; rewriting it in the same transaction keeps it whole.
  const chunkInput = (c: { chains: string[]; rules: string[] }): string => {
    const first = chunksYielded++ === 0;
    const decl = first ? [`:${KUBE_MARK_MASQ} - [0:0]`] : [];
    const rule = first ? natFixed.filter((l) => l.startsWith(`-A ${KUBE_MARK_MASQ} `)) : [];
    return ['*nat', ...decl, ...c.chains, ...rule, ...c.rules, 'COMMIT', ''].join('\n');
  };
  let ruleCount = 0;
  let writtenRules = 0;

  for (const [key, plan] of plans) {
    let r: RenderedPlan | undefined;
    if (rewrite.has(key) || !previous.has(key)) {
      const shape = shapeOf(plan);
      const top = renderTop(shape);
      const own = renderChains(shape, ctx);
      r = { top, chains: own.chains, chainRuleCount: own.rules.length };
      // One flat string per plan, not one per rule: the rule strings then die
      // young, and the ~100k that a full sync at 10k services writes are never
      // promoted and marked (that was ~40% of a full render's CPU, in GC).
      if (own.chains.length > 0) current.chains.push(`:${own.chains.join(' - [0:0]\n:')} - [0:0]`);
      if (own.rules.length > 0) current.rules.push(own.rules.join('\n'));
      writtenRules += own.rules.length;
      if (input.chunkPlans > 0 && ++plansInChunk >= input.chunkPlans) {
        const text = chunkInput(current);
        current = { chains: [], rules: [] };
        plansInChunk = 0;
        yield text;
      }
    } else {
      r = previous.get(key)!;
    }
    rendered.set(key, r);
    const t = r.top;
    for (const l of t.natServices) natServices.push(l);
    for (const l of t.natNodePorts) natNodePorts.push(l);
    for (const l of t.filterServices) filterServices.push(l);
    for (const l of t.filterExternal) filterExternal.push(l);
    for (const l of t.filterNodePorts) filterNodePorts.push(l);
    for (const l of t.filterFirewall) filterFirewall.push(l);
    ruleCount += r.chainRuleCount;
  }

  const filterForward = filterForwardRules(ctx);
  const filterRuleCount = filterServices.length + filterExternal.length + filterForward.length + filterNodePorts.length + filterFirewall.length;
  const dispatch = nodePortsDispatch(ctx);
  ruleCount += filterRuleCount + natFixed.length + natServices.length + dispatch.length + natNodePorts.length;

  // The shared chains, in the order they are written. iptables-restore needs
  // every rule of a chain it touches, so a chain is written whole, or (in a
  // partial sync, when its rules are the same as last time) not at all: the
  // common endpoint change then costs only the service's own chains.
  // KUBE-PROXY-CANARY in mangle, nat and filter, as kube-proxy's Monitor
  // keeps it: written by every full sync, then left alone (intact() looks).
  const sharedChains: [table: 'mangle' | 'filter' | 'nat', chain: string, rules: string[]][] = [
    ['mangle', KUBE_PROXY_CANARY, []],
    ['filter', KUBE_SERVICES, filterServices],
    ['filter', KUBE_EXTERNAL_SERVICES, filterExternal],
    ['filter', KUBE_FORWARD, filterForward],
    ['filter', KUBE_NODEPORTS, filterNodePorts],
    ['filter', KUBE_PROXY_FIREWALL, filterFirewall],
    ['filter', KUBE_PROXY_CANARY, []],
    ['nat', KUBE_POSTROUTING, natFixed.filter((l) => l.startsWith(`-A ${KUBE_POSTROUTING} `))],
    ['nat', KUBE_MARK_MASQ, natFixed.filter((l) => l.startsWith(`-A ${KUBE_MARK_MASQ} `))],
    ['nat', KUBE_PROXY_CANARY, []],
    ['nat', KUBE_NODEPORTS, natNodePorts],
    ['nat', KUBE_SERVICES, [...natServices, ...dispatch]],
  ];
  const shared = new Map<string, string>();
  const write = {
    mangle: { chains: [] as string[], rules: [] as string[] },
    filter: { chains: [] as string[], rules: [] as string[] },
    nat: { chains: [] as string[], rules: [] as string[] },
  };
  for (const [table, chain, rules] of sharedChains) {
    const key = `${table}/${chain}`;
    const text = rules.join('\n');
    shared.set(key, text);
    if (input.previousShared?.get(key) === text) continue;
    write[table].chains.push(`:${chain} - [0:0]`);
    for (const l of rules) write[table].rules.push(l);
    writtenRules += rules.length;
  }
  // KUBE-MARK-MASQ goes before the service chains that jump to it (chunks carry their own copy).
  const natFixedFirst = write.nat.rules.filter((l) => l.startsWith(`-A ${KUBE_MARK_MASQ} `) || l.startsWith(`-A ${KUBE_POSTROUTING} `));
  const natShared = write.nat.rules.slice(natFixedFirst.length);

  let active: Set<string> | undefined;
  const isActive = (chain: string): boolean => {
    if (!active) {
      active = new Set();
      for (const r of rendered.values()) for (const c of r.chains) active.add(c);
    }
    return active.has(chain);
  };
  const deletes = input.staleChains(isActive, rendered);
  const ownChains = input.chunkPlans > 0 ? [] : current.chains;
  const ownRules = input.chunkPlans > 0 ? [] : current.rules;

  const mangleSection = write.mangle.chains.length > 0 ? ['*mangle', ...write.mangle.chains, 'COMMIT'] : [];
  const filterSection =
    write.filter.chains.length + input.missingJumps.filter.length > 0
      ? ['*filter', ...write.filter.chains, ...write.filter.rules, ...input.missingJumps.filter, 'COMMIT']
      : [];
  const natSection =
    write.nat.chains.length + ownChains.length + deletes.length + input.missingJumps.nat.length > 0
      ? [
          '*nat',
          ...write.nat.chains,
          // A chain line flushes the stale chain, so `-X` below can delete it.
          ...deletes.map((c) => `:${c} - [0:0]`),
          ...ownChains,
          ...natFixedFirst,
          ...ownRules,
          ...natShared,
          ...input.missingJumps.nat,
          ...deletes.map((c) => `-X ${c}`),
          'COMMIT',
        ]
      : [];

  if (input.chunkPlans > 0 && current.chains.length > 0) yield chunkInput(current);
  const inputs: string[] = [];
  // Nothing changed at all: no restore.
  if (mangleSection.length + filterSection.length + natSection.length > 0) inputs.push([...mangleSection, ...filterSection, ...natSection, ''].join('\n'));
  return {
    inputs,
    rendered,
    shared,
    ruleCount,
    writtenRules,
    deleted: deletes,
    rulesByTable: { nat: ruleCount - filterRuleCount, filter: filterRuleCount },
  };
}
