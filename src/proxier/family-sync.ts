// One IP family's sync, as the proxier runs it each round: hand the plans to
// the backend, record the sync metrics, and account for what the kernel now
// holds (the `applied` plans the conntrack cleaner compares against, the
// pending changes, the failure backoff). The proxier decides when and how
// (full or partial); this file does one sync and its bookkeeping.

import type { Logger } from '../base/log.ts';
import { BackendSyncError } from './backend.ts';
import type { ProxyBackend, SyncResult } from './backend.ts';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import type { ConntrackCleaner } from './conntrack-cleaner.ts';
import { familyLabel } from './metrics.ts';
import type { ProxierMetrics } from './metrics.ts';
import type { Family, PlanSet, ServicePortPlan } from './plan.ts';

export interface FamilyState {
  family: Family;
  backend: ProxyBackend;
  plans: PlanSet;
  /** Keys changed since this family's last successful sync. */
  changed: Set<string>;
  needFull: boolean;
  lastFullAt: number;
  /** What the kernel holds after the last successful sync; undefined before the first. */
  applied: PlanSet | undefined;
  /** When the oldest change not yet applied was queued; 0 when none. */
  oldestPending: number;
  consecutiveFailures: number;
  /** Full syncs started or ended: an integrity check that saw one overlap it cannot be trusted. */
  fullSyncEvents: number;
  fullSyncRunning: boolean;
  /**
   * Plans left out because the backend could not load them (by key, the
   * plan object that failed): tried again once the key's plan changes.
   */
  excluded: Map<string, ServicePortPlan>;
}

export function newFamilyState(family: Family, backend: ProxyBackend): FamilyState {
  return {
    family,
    backend,
    plans: new Map(),
    changed: new Set(),
    needFull: true,
    lastFullAt: -Infinity,
    applied: undefined,
    oldestPending: 0,
    consecutiveFailures: 0,
    fullSyncEvents: 0,
    fullSyncRunning: false,
    excluded: new Map(),
  };
}

/** What a family sync needs from the proxier. */
export interface FamilySyncDeps {
  log: Logger;
  metrics: ProxierMetrics;
  clock: Clock;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  conntrack?: ConntrackCleaner;
  /** Asks the runner for another round after `delayMs` (the failure backoff). */
  retryAfter: (delayMs: number) => void;
}

export interface FamilySyncRound {
  full: boolean;
  /** When the round started (clock time): a failed sync's pending work dates from it. */
  startedAt: number;
  /** When the first change this sync applies reached the proxier (0: none), for latency measurements. */
  eventAt: number;
  /** Asked inside the sync's error handling, so a failure there is a failed sync like any other. */
  nodePortAddresses: () => string[];
  /**
   * The periodic full sync (fullSyncPeriod): plans left out are tried again
   * even unchanged, in case what refused them was passing (a kernel module
   * loaded since).
   */
  periodic?: boolean;
}

/**
 * How many plans a family may have left out at once. Past it, a failing
 * sync fails like any other (logged, retried, /healthz unhealthy after
 * 2×syncPeriod): so many bad objects more likely mean a broken backend or
 * kernel than bad input, and leaving out plan after plan would empty the
 * rules quietly. Each exclusion also costs a full sync.
 */
export const MAX_EXCLUDED_PLANS = 8;

/**
 * Syncs one family; false when the backend failed (a full sync is then
 * queued with backoff). A failure the backend traces to one plan
 * (BackendSyncError.planKey) leaves that plan out, logged and counted, and
 * syncs the rest again at once: one bad object must not stop the others.
 */
export async function syncFamily(f: FamilyState, round: FamilySyncRound, deps: FamilySyncDeps): Promise<boolean> {
  const { log, metrics } = deps;
  const { startedAt, eventAt } = round;
  let full = round.full;
  const fam = familyLabel(f.family);
  const changed = new Set(f.changed);
  // A plan that changed since it was left out is tried again; at the periodic full sync, every one.
  for (const [key, plan] of f.excluded) if (round.periodic || f.plans.get(key) !== plan) f.excluded.delete(key);
  const t0 = performance.now();
  let result: SyncResult;
  let plans = f.plans;
  try {
    for (;;) {
      plans = withoutExcluded(f.plans, f.excluded);
      try {
        result = await f.backend.sync({ family: f.family, plans, changed, full, nodePortAddresses: round.nodePortAddresses() });
        break;
      } catch (err) {
        const key = err instanceof BackendSyncError ? err.planKey : undefined;
        const plan = key !== undefined ? plans.get(key) : undefined;
        if (key === undefined || !plan || f.excluded.size >= MAX_EXCLUDED_PLANS) throw err;
        f.excluded.set(key, plan);
        metrics.restoreFailures.inc({ ip_family: fam });
        log.error(
          { err, family: fam, service: plan.servicePortName, protocol: plan.protocol, plan: key },
          `the proxy rules of service port ${plan.servicePortName} (${plan.protocol}) cannot be loaded; it is left out until it changes, and the rest is programmed`,
        );
        // The failed sync may have left part of its input: the retry rewrites everything.
        full = true;
      }
    }
  } catch (err) {
    f.needFull = true;
    f.consecutiveFailures++;
    if (f.oldestPending === 0) f.oldestPending = startedAt;
    if (err instanceof BackendSyncError && err.kind === 'restore') metrics.restoreFailures.inc({ ip_family: fam });
    // Back off from minSyncPeriod up to syncPeriod while the backend keeps failing.
    const delay = Math.min(deps.syncPeriodMs, Math.max(deps.minSyncPeriodMs, 1000) * 2 ** (f.consecutiveFailures - 1));
    log.error({ err, family: fam, full, retryInMs: delay }, 'proxy rule sync failed; a full sync is queued');
    deps.retryAfter(delay);
    metrics.excludedServicePorts.set({ ip_family: fam }, f.excluded.size);
    return false;
  }
  metrics.excludedServicePorts.set({ ip_family: fam }, f.excluded.size);
  const seconds = (performance.now() - t0) / 1000;
  metrics.syncDuration.observe({ ip_family: fam }, seconds);
  (full ? metrics.syncFullDuration : metrics.syncPartialDuration).observe({ ip_family: fam }, seconds);
  metrics.lastTimestamp.set({ ip_family: fam }, deps.clock.now() / 1000);
  const byTable = result.rulesByTable ?? { all: result.ruleCount };
  for (const [table, n] of Object.entries(byTable)) metrics.rulesTotal.set({ ip_family: fam, table }, n);

  const previous = f.applied;
  // Kept up to date per changed key; copied whole only on a full sync. The old
  // plans of changed keys are saved first: the conntrack cleaner compares them.
  let before: PlanSet | undefined;
  if (full || !previous) {
    f.applied = new Map(plans);
    before = previous;
  } else {
    before = new Map();
    for (const k of changed) {
      const old = previous.get(k);
      if (old) before.set(k, old);
      const cur = plans.get(k);
      if (cur) previous.set(k, cur);
      else previous.delete(k);
    }
  }
  for (const k of changed) f.changed.delete(k);
  f.needFull = false;
  f.consecutiveFailures = 0;
  f.oldestPending = 0;
  if (full) f.lastFullAt = startedAt;
  // eventAt: when the first change this sync applies reached the proxier (0: none), for latency measurements.
  log.debug({ family: fam, full, changed: changed.size, rules: result.ruleCount, applyMs: result.applyMs, ms: seconds * 1000, eventAt }, 'proxy rules synced');

  if (deps.conntrack) {
    // Rules first, then conntrack: deleted flows must meet the new rules (kube-proxy's order).
    const keys = full && before ? new Set([...before.keys(), ...plans.keys()]) : changed;
    await deps.conntrack.clean(f.family, before, plans, keys);
  }
  return true;
}

/** `plans` without the excluded ones (the same map when there are none: the common case copies nothing). */
function withoutExcluded(plans: PlanSet, excluded: ReadonlyMap<string, ServicePortPlan>): PlanSet {
  if (excluded.size === 0) return plans;
  const out: PlanSet = new Map(plans);
  for (const key of excluded.keys()) out.delete(key);
  return out;
}
