// The contract between the proxier and a dataplane (iptables today; nftables
// and IPVS later): one sync of one family's plans at a time. What the agent
// and the commands ask of a backend as a whole (its sync periods, trace,
// cleanup) is in backend-kind.ts.

import { NetletError } from '../base/errors.ts';
import type { Family, PlanSet } from './plan.ts';

/** One sync handed by the proxier to a backend (iptables, ipvs). */
export interface SyncRequest {
  family: Family;
  /** Every current plan of this family, keyed by planKey(). */
  plans: PlanSet;
  /**
   * planKeys whose service or endpoints changed since the last successful
   * sync, including keys of plans that no longer exist (their rules must go).
   * Ignored when `full` is set.
   */
  changed: ReadonlySet<string>;
  /** Rewrite everything: at start, after a failure, when the backend's state was found damaged, and every fullSyncPeriod. */
  full: boolean;
  /**
   * This node's addresses that accept NodePorts (after nodePortAddresses
   * filtering); empty means every local address except loopback (netlet
   * never offers NodePorts on localhost, see iptables/render-fixed.ts).
   */
  nodePortAddresses: string[];
}

export interface SyncResult {
  /** Rules (or real servers) the backend holds after the sync, for kubeproxy_sync_proxy_rules_iptables_total. */
  ruleCount: number;
  /** Time spent inside iptables-restore / netlink, ms: the floor the rest of the sync is compared with. */
  applyMs: number;
  /**
   * Added by the proxier engineer (optional, only added): rules per table
   * ({nat: 64, filter: 11}) for kubeproxy_sync_proxy_rules_iptables_total{table}.
   * When absent the proxier reports `ruleCount` under table="all".
   */
  rulesByTable?: Record<string, number>;
}

/**
 * How kube-proxy's metrics count a failed sync: 'restore' when loading the
 * rules into the kernel failed (kubeproxy_sync_proxy_rules_iptables_restore_failures_total,
 * counted by kube-proxy's iptables and IPVS modes alike).
 */
export type SyncFailureKind = 'restore';

/**
 * What a backend throws for a failed sync the metrics count, so the proxier
 * counts by what failed and never by which backend runs. Any other error
 * fails the sync just the same, uncounted.
 */
export class BackendSyncError extends NetletError {
  readonly kind: SyncFailureKind;
  /**
   * The plan (planKey) whose rules made the sync fail, when the backend can
   * tell (iptables: the line iptables-restore refused, or rule text the
   * renderer would not write). The proxier then syncs again without it.
   */
  readonly planKey: string | undefined;

  constructor(kind: SyncFailureKind, message: string, options?: { cause?: unknown; planKey?: string }) {
    super('ERR_PROXY_SYNC', message, options);
    this.kind = kind;
    this.planKey = options?.planKey;
  }
}

/**
 * A dataplane that renders plans. It decides nothing about policy (that is in
 * the plan) and throws on failure (a BackendSyncError when the failure is
 * one the metrics count); the proxier then schedules a full sync.
 */
export interface ProxyBackend {
  /** For logs only: the proxier never branches on it. */
  readonly name: string;
  sync(req: SyncRequest): Promise<SyncResult>;
  /**
   * Added by the proxy-latency engineer (optional, only added): whether the
   * kernel still holds what the last sync wrote, checked cheaply (iptables:
   * the canary chain). The proxier polls it every syncPeriod, off the sync
   * path (kube-proxy's iptables Monitor), and queues a full sync when false.
   */
  intact?(): Promise<boolean>;
  /** Removes everything the backend owns from the kernel. */
  cleanup(): Promise<void>;
}
