// Assembles one sync's iptables-restore input from per-plan renders. Pure: the
// backend decides which plans to re-render and which chains are stale.

import type { PlanSet, ServicePortPlan } from '../proxier/plan.ts';
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
import { sameList } from '../base/same-list.ts';
import { renderChains, renderTop, sameTop, shapeOf } from './render-service.ts';
import type { ChainRules, TopRules } from './render-service.ts';

/** What a plan rendered to, kept between syncs so unchanged plans are not rendered again. */
export interface RenderedPlan {
  top: TopRules;
  /** The plan's own nat chains. */
  chains: string[];
  /** Rules in those chains (for the rule-count metric when they are not rewritten). */
  chainRuleCount: number;
  /** The plan it was rendered from: rendering the same object again can take its chain names (renderChains). */
  plan: ServicePortPlan;
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
  /** The stale nat chains to flush and delete, given what each plan renders to now. */
  staleChains: (rendered: ReadonlyMap<string, RenderedPlan>) => string[];
  missingJumps: { nat: readonly string[]; filter: readonly string[] };
  /** Split service chains into restores of at most this many plans (0: one restore). */
  chunkPlans: number;
  /**
   * The shared chains' rules at the last successful sync ("table/CHAIN" →
   * text); a chain whose rules are unchanged is left out. Absent on full syncs.
   */
  previousShared?: ReadonlyMap<string, string>;
  /** Renders from an earlier sync, kept for a plan that renders the same again (see keepEarlierIfSame). */
  reuse?: ReadonlyMap<string, RenderedPlan>;
  /**
   * Yield the one restore input of a full sync in pieces as its plans are
   * rendered (chunkPlans 0, no previousShared): see renderSyncSteps.
   */
  stream?: boolean;
}

/** Part of a restore input; `ends` closes it, and the next piece starts another restore. */
export interface RestorePiece {
  text: string;
  ends: boolean;
}

/** All of one sync's restore inputs at once (partial syncs, tests). */
export function renderSync(input: SyncRenderInput): SyncRender {
  const steps = renderSyncSteps(input);
  const early: string[] = [];
  let open = '';
  for (;;) {
    const step = steps.next();
    if (step.done) return { ...step.value, inputs: [...early, ...step.value.inputs] };
    open += step.value.text;
    if (step.value.ends) {
      early.push(open);
      open = '';
    }
  }
}

/**
 * The same, as it is rendered. Chunked (nft): yields each chunk's restore
 * input as soon as its plans are rendered, in pieces of about PIECE_CHARS
 * (the last one ends it), and returns the final input in `inputs`; the
 * backend applies each chunk before the next is rendered
 * (docs/design/iptables-sync.md#why-nft-restores-are-chunked). Streamed
 * (legacy full syncs): yields the one input in pieces of about PIECE_CHARS,
 * laid out so that it can be written before the shared chains are known:
 * KUBE-MARK-MASQ first (the service chains jump to it), each plan's chains
 * declared just before its rules, then the shared chains, the missing jumps
 * and the deletions, then filter and mangle
 * (docs/design/iptables-sync.md#legacy-full-syncs-are-streamed). Otherwise
 * nothing is yielded and `inputs` holds it all.
 */
export function* renderSyncSteps(input: SyncRenderInput): Generator<RestorePiece, SyncRender, void> {
  const { plans, rewrite, previous, ctx } = input;
  const stream = input.stream === true && input.chunkPlans === 0 && input.previousShared === undefined;
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
  const markMasq = natFixed.filter((l) => l.startsWith(`-A ${KUBE_MARK_MASQ} `));
  // Service chains jump to KUBE-MARK-MASQ, which must exist (and mark) before
  // the first of them is loaded; rewriting it in the same transaction keeps it whole.
  const chunkInput = (c: { chains: string[]; rules: string[] }): Generator<RestorePiece> => {
    const first = chunksYielded++ === 0;
    const decl = first ? [`:${KUBE_MARK_MASQ} - [0:0]`] : [];
    const rule = first ? markMasq : [];
    return piecesOf(['*nat', ...decl, ...c.chains, ...rule, ...c.rules, 'COMMIT']);
  };
  /** A streamed input's plans rendered since the last piece, and their length. */
  let pending: string[] = [];
  let pendingChars = 0;
  let ruleCount = 0;
  let writtenRules = 0;
  if (stream) {
    yield { text: ['*nat', `:${KUBE_MARK_MASQ} - [0:0]`, ...markMasq, ''].join('\n'), ends: false };
    writtenRules += markMasq.length;
  }

  for (const [key, plan] of plans) {
    let r: RenderedPlan | undefined;
    if (rewrite.has(key) || !previous.has(key)) {
      const shape = shapeOf(plan);
      const top = renderTop(shape);
      const before = input.reuse?.get(key);
      const own = renderChains(shape, ctx, before?.plan === plan ? before.chains : undefined);
      r = keepEarlierIfSame(before, plan, top, own);
      writtenRules += own.rules.length;
      if (stream) {
        pendingChars += addPlanLines(pending, own);
        if (pendingChars >= PIECE_CHARS) {
          const text = pending.join('');
          pending = [];
          pendingChars = 0;
          yield { text, ends: false };
        }
      } else {
        addPlanText(current, own);
        if (input.chunkPlans > 0 && ++plansInChunk >= input.chunkPlans) {
          const pieces = chunkInput(current);
          current = { chains: [], rules: [] };
          plansInChunk = 0;
          yield* pieces;
        }
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
  if (pending.length > 0) yield { text: pending.join(''), ends: false };

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
    ['nat', KUBE_MARK_MASQ, markMasq],
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
    // A streamed input wrote KUBE-MARK-MASQ first.
    if (stream && chain === KUBE_MARK_MASQ) continue;
    write[table].chains.push(`:${chain} - [0:0]`);
    for (const l of rules) write[table].rules.push(l);
    writtenRules += rules.length;
  }
  // KUBE-MARK-MASQ goes before the service chains that jump to it (chunks carry their own copy).
  const natFixedFirst = write.nat.rules.filter((l) => l.startsWith(`-A ${KUBE_MARK_MASQ} `) || l.startsWith(`-A ${KUBE_POSTROUTING} `));
  const natShared = write.nat.rules.slice(natFixedFirst.length);

  const deletes = input.staleChains(rendered);
  const ownChains = input.chunkPlans > 0 || stream ? [] : current.chains;
  const ownRules = input.chunkPlans > 0 || stream ? [] : current.rules;

  const mangleSection = write.mangle.chains.length > 0 ? ['*mangle', ...write.mangle.chains, 'COMMIT'] : [];
  const filterSection =
    write.filter.chains.length + input.missingJumps.filter.length > 0
      ? ['*filter', ...write.filter.chains, ...write.filter.rules, ...input.missingJumps.filter, 'COMMIT']
      : [];
  // The stale chains are flushed by their chain line, so `-X` can delete them.
  const flushStale = deletes.map((c) => `:${c} - [0:0]`);
  const deleteStale = deletes.map((c) => `-X ${c}`);
  if (stream) {
    // The rest of the nat input opened above: the shared chains may be
    // declared (flushed) after the plans' chains, it is one transaction.
    const natTail = [...write.nat.chains, ...flushStale, ...natFixedFirst, ...natShared, ...input.missingJumps.nat, ...deleteStale, 'COMMIT'];
    yield* piecesOf([...natTail, ...filterSection, ...mangleSection]);
  }
  const natSection =
    !stream && write.nat.chains.length + ownChains.length + deletes.length + input.missingJumps.nat.length > 0
      ? ['*nat', ...write.nat.chains, ...flushStale, ...ownChains, ...natFixedFirst, ...ownRules, ...natShared, ...input.missingJumps.nat, ...deleteStale, 'COMMIT']
      : [];

  if (input.chunkPlans > 0 && current.chains.length > 0) yield* chunkInput(current);
  const inputs: string[] = [];
  // Nothing changed at all (or it was streamed): no restore.
  const last = stream ? [] : [...mangleSection, ...filterSection, ...natSection];
  if (last.length > 0) {
    // A chunked sync's last input holds every KUBE-SERVICES rule: in pieces too.
    if (input.chunkPlans > 0) yield* piecesOf(last);
    else inputs.push([...last, ''].join('\n'));
  }
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

/**
 * The size of a restore input's pieces, in characters (bytes: the rules are
 * ASCII but for comments): well under the 128 KiB at which V8 makes a string
 * in old generation, so they die young (docs/design/iptables-sync.md#restore-input-in-pieces).
 */
const PIECE_CHARS = 32 * 1024;

/** `lines` as one input (each line ending in a newline), in pieces of about PIECE_CHARS; the last one ends it. */
function* piecesOf(lines: readonly string[]): Generator<RestorePiece> {
  let from = 0;
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += lines[i].length + 1;
    const last = i === lines.length - 1;
    if (chars >= PIECE_CHARS || last) {
      yield { text: [...lines.slice(from, i + 1), ''].join('\n'), ends: last };
      from = i + 1;
      chars = 0;
    }
  }
}

/**
 * `earlier` when `plan` rendered the same again, now standing for `plan` (an
 * equal new plan object, after a rebuild), else a new render. Keeping the
 * earlier objects lets the new ones die young (docs/design/iptables-sync.md#kept-renders).
 */
function keepEarlierIfSame(earlier: RenderedPlan | undefined, plan: ServicePortPlan, top: TopRules, own: ChainRules): RenderedPlan {
  if (!earlier || !sameRender(earlier, top, own)) return { top, chains: own.chains, chainRuleCount: own.rules.length, plan };
  earlier.plan = plan;
  return earlier;
}

function sameRender(r: RenderedPlan, top: TopRules, own: ChainRules): boolean {
  return r.chainRuleCount === own.rules.length && sameList(r.chains, own.chains) && sameTop(r.top, top);
}

/**
 * Adds a plan's chain declarations and rules, newline-ended, to the parts of
 * a streamed piece, to be joined once with it; returns their length in
 * characters (docs/design/iptables-sync.md#restore-input-in-pieces).
 */
function addPlanLines(parts: string[], own: ChainRules): number {
  let chars = 0;
  for (const c of own.chains) {
    parts.push(':', c, ' - [0:0]\n');
    chars += c.length + 10;
  }
  for (const rule of own.rules) {
    parts.push(rule, '\n');
    chars += rule.length + 1;
  }
  return chars;
}

/**
 * Adds a plan's chain declarations and its rules to a chunk, as one string
 * each rather than one per rule, so the rule strings die young
 * (docs/design/iptables-sync.md#rule-text).
 */
function addPlanText(chunk: { chains: string[]; rules: string[] }, own: ChainRules): void {
  if (own.chains.length > 0) chunk.chains.push(`:${own.chains.join(' - [0:0]\n:')} - [0:0]`);
  if (own.rules.length > 0) chunk.rules.push(own.rules.join('\n'));
}
