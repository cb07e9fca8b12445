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
  /** This node's addresses that accept NodePorts (after nodePortAddresses filtering); empty means all. */
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
 * A dataplane that renders plans. It decides nothing about policy (that is in
 * the plan) and throws on failure; the proxier then schedules a full sync.
 */
export interface ProxyBackend {
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
