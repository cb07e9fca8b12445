// UDP has no connection teardown, so a conntrack entry made while a service
// had no endpoints (or pointing at an endpoint that is gone) keeps
// black-holing a client that reuses its source port. After rules are applied,
// kube-proxy deletes (pkg/proxy/conntrack/cleanup.go):
//  - entries to a service IP / NodePort whose endpoints went from none to some;
//  - entries DNATed to an endpoint that was removed.
// Only entries that these changes made stale are touched: nothing is flushed
// on restart (unlike kube-proxy, kubernetes#122740), because the first full
// sync compares against what this process has applied, which starts empty,
// and "none to some" then only covers services that had no endpoints.

import type { Logger } from '../base/log.ts';
import { describeFilter } from './conntrack-table.ts';
import type { ConntrackFilter, ConntrackTable } from './conntrack-table.ts';
import type { Family, PlanSet, ServicePortPlan } from './plan.ts';

/** The addresses a plan's port is reached on: ClusterIP, external IPs, LB IPs. */
function serviceIPs(p: ServicePortPlan): string[] {
  return [p.clusterIP, ...p.externalIPs, ...p.loadBalancerIPs];
}

const usable = (p: ServicePortPlan | undefined): number => (p ? p.allEndpoints.length : 0);

/** Filters for the UDP entries made stale by going from `prev` to `cur` (either may be absent). */
export function staleConntrackFilters(prev: ServicePortPlan | undefined, cur: ServicePortPlan | undefined): ConntrackFilter[] {
  const proto = (cur ?? prev)?.protocol;
  if (proto !== 'udp') return [];
  const filters: ConntrackFilter[] = [];

  // None → some: entries made while packets were rejected, dropped, or not
  // yet translated (a new service: clients such as DNS lookups may have sent
  // to the ClusterIP before its rules existed).
  if (cur && usable(cur) > 0 && usable(prev) === 0) {
    for (const ip of serviceIPs(cur)) filters.push({ protocol: 'udp', origDst: ip, origDstPort: cur.port });
    if (cur.nodePort) filters.push({ protocol: 'udp', origDstPort: cur.nodePort });
  }

  // Removed endpoints: entries DNATed to them, reached through any VIP the service had.
  if (prev) {
    const kept = new Set((cur?.allEndpoints ?? []).map((e) => e.ip));
    const gone = new Set(prev.allEndpoints.map((e) => e.ip).filter((ip) => !kept.has(ip)));
    for (const epIP of gone) {
      for (const ip of serviceIPs(prev)) filters.push({ protocol: 'udp', origDst: ip, origDstPort: prev.port, replySrc: epIP });
      if (prev.nodePort) filters.push({ protocol: 'udp', origDstPort: prev.nodePort, replySrc: epIP });
    }
  }
  return filters;
}

export class ConntrackCleaner {
  readonly #table: ConntrackTable;
  readonly #log: Logger;

  constructor(table: ConntrackTable, log: Logger) {
    this.#table = table;
    this.#log = log;
  }

  /**
   * Deletes what the step from `applied` (what was in the kernel) to
   * `current` made stale, for the plan keys given. Never throws: a failed
   * cleanup is logged and costs at most one stale UDP flow.
   */
  async clean(family: Family, applied: PlanSet | undefined, current: PlanSet, keys: Iterable<string>): Promise<number> {
    if (!applied) return 0; // first sync of this process: nothing is known to be stale (no flush on restart)
    const filters: ConntrackFilter[] = [];
    for (const key of keys) filters.push(...staleConntrackFilters(applied.get(key), current.get(key)));
    if (filters.length === 0) return 0;
    try {
      const n = await this.#table.deleteMatching(family, filters);
      this.#log.debug({ family, deleted: n, filters: filters.map(describeFilter) }, 'deleted stale UDP conntrack entries');
      return n;
    } catch (err) {
      this.#log.warn({ err, family, filters: filters.map(describeFilter) }, 'could not delete stale UDP conntrack entries');
      return 0;
    }
  }

  close(): void {
    this.#table.close();
  }
}
