// The iptables ProxyBackend: renders plans with kube-proxy's layout and
// applies them with iptables-restore --noflush, rewriting only the chains of
// changed plans (KEP-3453 partial syncs; docs/design/iptables-sync.md#partial-syncs).
// A full sync goes in restores of CHUNK_PLANS plans on nft, whose restore time
// grows with rules × chains in one input, and as one streamed restore on
// legacy (docs/design/iptables-sync.md#why-nft-restores-are-chunked).

import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import { BackendSyncError } from '../proxier/backend.ts';
import type { ProxyBackend, SyncRequest, SyncResult } from '../proxier/backend.ts';
import type { Family } from '../proxier/plan.ts';
import { KUBE_PROXY_CANARY, isServiceChain } from './chain-names.ts';
import { ActiveChains } from './active-chains.ts';
import { cleanupTables } from './cleanup.ts';
import { LARGE_CLUSTER_ENDPOINTS, masqueradeMark } from './render-context.ts';
import type { RenderContext } from './render-context.ts';
import { missingJumps } from './render-fixed.ts';
import { renderContextKey, renderPartial } from './render-partial.ts';
import { renderSyncSteps } from './render-sync.ts';
import { planRefusedAtCommit } from './commit-bisect.ts';
import { planWritingLine } from './failed-line.ts';
import { UnsafeRuleTextError } from './rule-text.ts';
import type { RenderedPlan, RestorePiece, SyncRender } from './render-sync.ts';
import { IptablesRestoreError, RestoreStream, chainExists, parseSave, restore, saveBytes } from './restore.ts';
import type { IptablesTools } from './tools.ts';

/** Where full syncs put KUBE-PROXY-CANARY (render-sync.ts), in the order intact() looks. */
const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;

/** Plans per nft restore in a chunked full sync (docs/design/iptables-sync.md#why-nft-restores-are-chunked). */
export const CHUNK_PLANS = 200;

export interface IptablesBackendOptions {
  tools: IptablesTools;
  log: Logger;
  /** proxy.iptables.masqueradeBit: the fwmark bit of KUBE-MARK-MASQ. */
  masqueradeBit: number;
  /** proxy.conntrack.tcpBeLiberal: when set, the INVALID-drop rule is left out (as kube-proxy does). */
  tcpBeLiberal: boolean;
  metrics?: Registry;
  /** Override the chunk size (0 = never chunk), for the benchmark. */
  chunkPlans?: number;
}

export class IptablesBackend implements ProxyBackend {
  readonly name = 'iptables';
  readonly tools: IptablesTools;
  readonly #log: Logger;
  readonly #masqueradeBit: number;
  readonly #tcpBeLiberal: boolean;
  readonly #chunkPlans: number;
  /** What each plan rendered to at the last successful sync. */
  #rendered = new Map<string, RenderedPlan>();
  /** Every chain #rendered uses (active-chains.ts). */
  readonly #active = new ActiveChains();
  /** The shared chains' rules as the kernel holds them since the last successful sync. */
  #shared = new Map<string, string>();
  #largeCluster = false;
  #synced = false;
  /** The last successful sync's totals and render context (for renderPartial). */
  #totals = { ruleCount: 0, filterRuleCount: 0, ctxKey: '' };
  /** The render context of the sync running or last run: a failed line is traced with it. */
  #ctx: RenderContext | undefined;
  /** Time spent in iptables-restore/-save during the last sync. */
  lastApplyMs = 0;

  constructor(opts: IptablesBackendOptions) {
    this.tools = opts.tools;
    this.#log = opts.log;
    this.#masqueradeBit = opts.masqueradeBit;
    this.#tcpBeLiberal = opts.tcpBeLiberal;
    this.#chunkPlans = opts.chunkPlans ?? (opts.tools.mode === 'nft' ? CHUNK_PLANS : 0);
  }

  get family(): Family {
    return this.tools.family;
  }

  async sync(req: SyncRequest): Promise<SyncResult> {
    try {
      return await this.#sync(req);
    } catch (err) {
      // Whatever failed (the iptables-save before a full sync, a restore, or
      // a render the restore would have refused), the sync did not load its
      // rules: counted as a restore failure, as netlet always has. A render
      // may have stopped half-way: the next sync rewrites everything.
      this.#synced = false;
      if (err instanceof BackendSyncError) throw err;
      throw new BackendSyncError('restore', (err as Error).message, { cause: err, planKey: await this.#planAt(err, req) });
    }
  }

  /**
   * The plan a failure comes from, when one can be named: a plan the
   * renderer refused (rule-text.ts), the writer of the line
   * iptables-restore refused (failed-line.ts), or, when no plan wrote that
   * line (a kernel refusal reported at COMMIT), the plan a bisection in a
   * namespace of its own finds (commit-bisect.ts). The proxier leaves it out.
   */
  async #planAt(err: unknown, req: SyncRequest): Promise<string | undefined> {
    if (err instanceof UnsafeRuleTextError) return err.planKey;
    if (!(err instanceof IptablesRestoreError) || !this.#ctx) return undefined;
    const key = err.failedLine ? planWritingLine(req.plans, err.failedLine, this.#ctx) : undefined;
    this.#log.debug({ family: this.tools.family, line: err.line, plan: key }, 'traced the refused restore line');
    // A lock held by another writer is no plan's doing; bisecting would only wait for it again.
    if (key !== undefined || req.plans.size === 0 || /xtables lock/i.test(err.message)) return key;
    return planRefusedAtCommit(this.tools, req.plans, this.#ctx, this.#log);
  }

  async #sync(req: SyncRequest): Promise<SyncResult> {
    if (req.family !== this.tools.family) {
      throw new Error(`iptables backend for IPv${this.tools.family} got an IPv${req.family} sync`);
    }
    let applyMs = 0;
    const timed = async <T>(f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        applyMs += performance.now() - t0;
      }
    };

    let endpoints = 0;
    for (const p of req.plans.values()) endpoints += p.allEndpoints.length;
    const largeCluster = endpoints > LARGE_CLUSTER_ENDPOINTS;
    // Comments change in every service chain when the mode flips: rewrite all.
    const full = req.full || !this.#synced || largeCluster !== this.#largeCluster;
    const ctx: RenderContext = {
      family: this.tools.family,
      masqMark: masqueradeMark(this.#masqueradeBit),
      nodePortAddresses: req.nodePortAddresses,
      tcpBeLiberal: this.#tcpBeLiberal,
      largeCluster,
    };
    this.#ctx = ctx;

    // No canary check here: the proxier polls intact() every syncPeriod, off
    // the sync path (kube-proxy's iptables Monitor), so an endpoint change
    // costs one iptables-restore and nothing beside it.
    const steps = await this.#render(req, full, ctx, timed);
    let out: SyncRender;
    let restores = 0;
    let stream: RestoreStream | undefined;
    try {
      // A full sync's chunks are applied as they are rendered, a streamed
      // input is written as it is rendered (render-sync.ts), then the rest.
      for (let step = steps.next(); ; step = steps.next()) {
        if (step.done) {
          out = step.value;
          break;
        }
        const piece = step.value;
        if (piece.ends && !stream) {
          await timed(() => restore(this.tools, piece.text));
          restores++;
          continue;
        }
        const open = (stream ??= new RestoreStream(this.tools));
        await timed(() => open.write(piece.text));
        if (piece.ends) {
          stream = undefined;
          await timed(() => open.end());
          restores++;
        }
      }
      for (const text of out.inputs) {
        await timed(() => restore(this.tools, text));
        restores++;
      }
    } catch (err) {
      this.#active.forget();
      // An input cut short has no COMMIT: iptables-restore applies none of it.
      await stream?.end().catch(() => {});
      // Some chunks may have landed: forget what we think is there, the next (full) sync re-reads it.
      this.#synced = false;
      throw err;
    }
    this.#rendered = out.rendered;
    this.#shared = out.shared;
    this.#totals = { ruleCount: out.ruleCount, filterRuleCount: out.rulesByTable.filter, ctxKey: renderContextKey(ctx) };
    this.#largeCluster = largeCluster;
    this.#synced = true;
    this.lastApplyMs = applyMs;
    this.#log.debug(
      { family: this.tools.family, full, plans: req.plans.size, written: out.writtenRules, deleted: out.deleted.length, restores, applyMs },
      'iptables sync',
    );
    return { ruleCount: out.ruleCount, applyMs, rulesByTable: out.rulesByTable };
  }

  /** The restore inputs of one sync, as they are rendered (renderSyncSteps); a full one first reads the tables to adopt what is there. */
  async #render(req: SyncRequest, full: boolean, ctx: RenderContext, timed: <T>(f: () => Promise<T>) => Promise<T>): Promise<Generator<RestorePiece, SyncRender, void>> {
    let rewrite: ReadonlySet<string>;
    const jumps = { nat: [] as string[], filter: [] as string[] };
    let unknownChains: Set<string> | undefined;
    if (full) {
      // Adopt what is there (a restarted agent flushes nothing): read the
      // tables to find stale chains and missing jumps. Of the chains, only
      // those the last sync did not use are kept (all of them after a restart).
      const [natText, filterText] = await timed(() => Promise.all([saveBytes(this.tools, 'nat'), saveBytes(this.tools, 'filter')]));
      const nat = parseSave(natText, ['PREROUTING', 'OUTPUT', 'POSTROUTING'], (c) => isServiceChain(c) && !this.#active.has(c));
      unknownChains = nat.chains;
      jumps.nat = missingJumps('nat', nat.rules);
      jumps.filter = missingJumps('filter', parseSave(filterText, ['INPUT', 'FORWARD', 'OUTPUT']).rules);
      rewrite = new Set(req.plans.keys());
    } else {
      // Updates #rendered in place: if this sync then fails, the next one is full and reads nothing from it.
      const before = new Map([...req.changed].map((k) => [k, this.#rendered.get(k)]));
      const fast = renderPartial({ plans: req.plans, changed: req.changed, previous: this.#rendered, previousShared: this.#shared, previousTotals: this.#totals, ctx });
      if (fast) {
        this.#active.update(before, fast.rendered, req.changed);
        return (function* (): Generator<RestorePiece, SyncRender, void> {
          return fast;
        })();
      }
      rewrite = new Set([...req.changed].filter((k) => req.plans.has(k)));
    }

    const previous = this.#rendered;
    return renderSyncSteps({
      plans: req.plans,
      rewrite,
      previous: full ? new Map() : previous,
      reuse: full ? previous : undefined,
      ctx,
      staleChains: (rendered) => {
        // The chains the last sync used that this one does not (a partial
        // sync compares only the changed plans'), and in a full sync the
        // ones the tables hold that neither uses.
        const stale = new Set(this.#active.update(previous, rendered, full ? undefined : req.changed));
        for (const c of unknownChains ?? []) if (!this.#active.has(c)) stale.add(c);
        return [...stale];
      },
      missingJumps: jumps,
      chunkPlans: full ? this.#chunkPlans : 0,
      previousShared: full ? undefined : this.#shared,
      // Legacy's one restore of a full sync is written as it is rendered. Not
      // nft's: declaring chains between rules makes its restore ~8× slower
      // (docs/design/iptables-sync.md#why-nft-restores-are-chunked).
      stream: full && this.tools.mode === 'legacy',
    });
  }

  /**
   * Whether KUBE-PROXY-CANARY is still in the mangle, nat and filter tables
   * (one `iptables -S` each, ~5 ms at 10k services on nft; legacy reads the
   * whole table, ~200 ms for nat). It vanishes when someone deletes a table's
   * chains (a firewall reload, `iptables -t nat -X`); then a full sync must
   * put everything back. kube-proxy's Monitor keeps the same three canaries
   * but polls only mangle's (the first table it is given) and treats nat and
   * filter as following along; netlet notices any of the three going, so a
   * reload of nat or filter alone is repaired too. Before the first sync there
   * is nothing to lose.
   */
  async intact(): Promise<boolean> {
    if (!this.#synced) return true;
    for (const table of CANARY_TABLES) if (!(await chainExists(this.tools, table, KUBE_PROXY_CANARY))) return false;
    return true;
  }

  async cleanup(): Promise<void> {
    await cleanupTables(this.tools);
    this.#rendered.clear();
    this.#active.forget();
    this.#synced = false;
  }
}
