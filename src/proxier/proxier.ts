// The backend-neutral service proxy: follows the store through a change
// tracker, keeps one PlanSet per IP family (recomputing only the services
// that changed), and hands each family's plans to its backend through the
// bounded-frequency runner. Full syncs run at start, after a failure, when a
// backend reports its kernel state damaged, and every fullSyncPeriod; in
// between only changed plan keys are rewritten. Whether the kernel state is
// intact is polled every syncPeriod apart from the syncs (kube-proxy's
// iptables Monitor), so a change never waits for that check.
// One family's sync and its bookkeeping (metrics, what was applied, the UDP
// conntrack entries the change made stale) are in family-sync.ts; after a
// successful round the proxier updates the healthCheckNodePort servers.

import type { Logger } from '../base/log.ts';
import type { Node } from '../k8s/objects.ts';
import type { ObjectStore } from '../k8s/store.ts';
import type { ProxyBackend } from './backend.ts';
import { BoundedFrequencyRunner, systemClock } from '../base/bounded-frequency-runner.ts';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import { ChangeTracker, isProxied } from './change-tracker.ts';
import { deepEqual } from './deep-equal.ts';
import { newFamilyState, syncFamily } from './family-sync.ts';
import type { FamilyState, FamilySyncDeps } from './family-sync.ts';
import { IntactMonitor } from './intact-monitor.ts';
import type { ConntrackCleaner } from './conntrack-cleaner.ts';
import type { HealthCheckService, HealthCheckServers } from './healthcheck-servers.ts';
import { familyLabel } from './metrics.ts';
import type { ProxierMetrics } from './metrics.ts';
import { planKey } from './plan.ts';
import type { Family, PlanSet, ServicePortPlan } from './plan.ts';
import { buildPlans, nodeFactsKey } from './plan-builder.ts';
import type { PlanContext } from './plan-builder.ts';
import { releaseFullSyncGarbage, releaseLoadGarbage, releasePlanBuildGarbage } from './release-memory.ts';

export interface ProxierOptions {
  store: ObjectStore;
  nodeName: string;
  /** One backend per IP family the node runs. */
  backends: ReadonlyMap<Family, ProxyBackend>;
  log: Logger;
  metrics: ProxierMetrics;
  masqueradeAll: boolean;
  clusterCIDRs: readonly string[];
  minSyncPeriodMs: number;
  /** The periodic run, the integrity poll (ProxyBackend.intact) and the healthz timeout. */
  syncPeriodMs: number;
  /**
   * Time between periodic full syncs; defaults to syncPeriodMs. kube-proxy's
   * iptables and nftables proxiers use a fixed hour (FullSyncPeriod) and
   * rely on the canary poll to notice a flush in between.
   */
  fullSyncPeriodMs?: number;
  /** Addresses accepting NodePorts for a family; [] means all. */
  nodePortAddresses?: (family: Family, node: Node | undefined) => string[];
  conntrack?: ConntrackCleaner;
  healthChecks?: HealthCheckServers;
  clock?: Clock;
}

const SYNCED_KINDS = ['Service', 'EndpointSlice', 'Node'] as const;

const plansEqual = (a: ServicePortPlan, b: ServicePortPlan): boolean => deepEqual(a, b);

export class Proxier {
  readonly #opts: ProxierOptions;
  readonly #clock: Clock;
  readonly #tracker: ChangeTracker;
  readonly #runner: BoundedFrequencyRunner;
  readonly #families: FamilyState[];
  /** Plans per service key and family, so a partial sync rebuilds only what changed. */
  readonly #servicePlans = new Map<string, Map<Family, ServicePortPlan[]>>();
  /** Trigger times of the changes taken but not yet applied in every family. */
  #triggerTimes = new Map<string, number[]>();
  #node: Node | undefined;
  #nodeChanged = false;
  #built = false;
  /** Services with a healthCheckNodePort, so health checks are refreshed without walking every service. */
  readonly #healthCheckServices = new Set<string>();
  #unsubscribeNode: (() => void) | undefined;
  #started = false;
  /** When the first change not yet taken by a sync reached the proxier (wall clock), 0 when none. */
  #firstQueuedAt = 0;
  readonly #monitor: IntactMonitor;
  readonly #familySyncDeps: FamilySyncDeps;

  constructor(opts: ProxierOptions) {
    if (opts.backends.size === 0) throw new TypeError('proxier: at least one backend is needed');
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#tracker = new ChangeTracker({
      onChange: (kind) => {
        (kind === 'Service' ? opts.metrics.serviceChangesTotal : opts.metrics.endpointChangesTotal).inc();
        this.#queued();
      },
    });
    this.#families = [...opts.backends].map(([family, backend]) => newFamilyState(family, backend));
    this.#runner = new BoundedFrequencyRunner(() => this.syncProxyRules(), {
      name: 'sync-proxy-rules',
      minIntervalMs: opts.minSyncPeriodMs,
      maxIntervalMs: opts.syncPeriodMs,
      clock: this.#clock,
      onError: (err) => opts.log.error({ err }, 'proxy rule sync crashed'),
    });
    this.#familySyncDeps = {
      log: opts.log,
      metrics: opts.metrics,
      clock: this.#clock,
      minSyncPeriodMs: opts.minSyncPeriodMs,
      syncPeriodMs: opts.syncPeriodMs,
      conntrack: opts.conntrack,
      retryAfter: (delayMs) => this.#runner.retryAfter(delayMs),
    };
    this.#monitor = new IntactMonitor({
      clock: this.#clock,
      periodMs: opts.syncPeriodMs,
      log: opts.log,
      families: this.#families,
      onDamaged: (m) => {
        const f = m as FamilyState;
        f.needFull = true;
        if (f.oldestPending === 0) f.oldestPending = this.#clock.now();
        this.#runner.run();
      },
    });
  }

  /**
   * Starts tracking at once (so no change is missed) and syncing as soon as
   * Services, EndpointSlices and Nodes have synced: applying rules from a
   * half-filled store would drop traffic to services not yet seen.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // Not synced yet counts as pending work, so a source that never syncs shows as unhealthy.
    const now = this.#clock.now();
    for (const f of this.#families) f.oldestPending = now;
    this.#tracker.attach(this.#opts.store);
    this.#unsubscribeNode = this.#opts.store.subscribe((c) => {
      if (c.kind !== 'Node' || c.key !== this.#opts.nodeName) return;
      const cur = c.current as Node | undefined;
      if (nodeFactsKey(cur) !== nodeFactsKey(this.#node)) {
        this.#nodeChanged = true;
        this.#queued();
      }
      this.#node = cur;
    });
    // Not awaited: the agent's other components must not wait for the API server.
    void this.#opts.store.whenSynced(...SYNCED_KINDS).then(() => {
      if (!this.#started) return;
      this.#runner.start();
      this.#monitor.start();
    });
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#tracker.close();
    this.#unsubscribeNode?.();
    this.#monitor.stop();
    await this.#runner.stop();
    await this.#opts.healthChecks?.close();
    this.#opts.conntrack?.close();
  }

  /**
   * kube-proxy's healthz semantic: unhealthy when a change has been waiting
   * for longer than 2×syncPeriod (syncs stopped succeeding, or never started).
   */
  healthy(): boolean {
    const now = this.#clock.now();
    const timeout = 2 * this.#opts.syncPeriodMs;
    return this.#families.every((f) => f.oldestPending === 0 || now - f.oldestPending < timeout);
  }

  /**
   * The service ports left out of the rules because the backend could not
   * load them (family-sync.ts), as "ns/name:port (tcp, IPv4)": shown in the
   * /healthz body from the sync that left them out on.
   */
  excludedServicePorts(): string[] {
    const out: string[] = [];
    for (const f of this.#families) for (const p of f.excluded.values()) out.push(`${p.servicePortName} (${p.protocol}, IPv${f.family})`);
    return out.sort();
  }

  /** The current plans of a family (for `netlet trace`, tests and debugging). */
  plans(family: Family): PlanSet | undefined {
    return this.#families.find((f) => f.family === family)?.plans;
  }

  /** Asks for a sync as soon as minSyncPeriod allows. */
  requestSync(): void {
    this.#runner.run();
  }

  /** One round: rebuild the changed plans, then sync every family. Run by the runner. */
  async syncProxyRules(): Promise<void> {
    if (!this.#opts.store.isSynced(...SYNCED_KINDS)) return;
    const startedAt = this.#clock.now();
    this.#node = this.#opts.store.get('Node', this.#opts.nodeName);
    this.#updatePendingGauges();
    const pending = this.#tracker.take();
    const eventAt = this.#firstQueuedAt;
    this.#firstQueuedAt = 0;
    for (const [svc, times] of pending.triggerTimes) {
      this.#triggerTimes.set(svc, [...(this.#triggerTimes.get(svc) ?? []), ...times]);
    }
    if (!this.#built || this.#nodeChanged) {
      // Every plan from the store: at the first sync and when this node's zone (topology) or IPs (source ranges) moved.
      // A periodic full sync needs no rebuild: the tracker keeps the cached plans current,
      // and "full" is about rewriting the kernel state, not recomputing decisions.
      const first = !this.#built;
      if (first) releaseLoadGarbage();
      this.#built = true;
      this.#nodeChanged = false;
      this.#rebuildAll();
      if (first) releasePlanBuildGarbage();
    } else {
      for (const svc of pending.services) this.#rebuildService(svc);
    }
    this.#updatePendingGauges();

    let allOk = true;
    let anyFull = false;
    const fullPeriod = this.#opts.fullSyncPeriodMs ?? this.#opts.syncPeriodMs;
    for (const f of this.#families) {
      const periodic = startedAt - f.lastFullAt >= fullPeriod;
      const full = f.needFull || periodic;
      if (!full && f.changed.size === 0 && f.applied !== undefined) {
        f.oldestPending = 0;
        continue;
      }
      if (full) {
        anyFull = true;
        f.fullSyncEvents++;
        f.fullSyncRunning = true;
      }
      try {
        const nodePortAddresses = () => this.#opts.nodePortAddresses?.(f.family, this.#node) ?? [];
        if (!(await syncFamily(f, { full, startedAt, eventAt, nodePortAddresses, periodic }, this.#familySyncDeps))) allOk = false;
      } finally {
        if (full) {
          f.fullSyncEvents++;
          f.fullSyncRunning = false;
        }
      }
    }
    if (allOk) {
      this.#observeProgramming();
      await this.#syncHealthChecks();
    }
    if (anyFull) {
      const released = releaseFullSyncGarbage();
      if (released) this.#opts.log.debug({ gcMs: Math.round(released.ms), releasedMB: Math.round(released.releasedBytes / 2 ** 20) }, 'gave the full sync memory back');
    }
  }

  #queued(): void {
    const now = this.#clock.now();
    if (this.#firstQueuedAt === 0) this.#firstQueuedAt = now;
    this.#opts.metrics.lastQueuedTimestamp.set(now / 1000);
    for (const f of this.#families) if (f.oldestPending === 0) f.oldestPending = now;
    this.#updatePendingGauges();
    this.#runner.run();
  }

  #updatePendingGauges(): void {
    this.#opts.metrics.serviceChangesPending.set(this.#tracker.pendingServiceChanges);
    this.#opts.metrics.endpointChangesPending.set(this.#tracker.pendingEndpointChanges);
  }

  #planContext(): PlanContext {
    return {
      nodeName: this.#opts.nodeName,
      node: this.#node,
      masqueradeAll: this.#opts.masqueradeAll,
      clusterCIDRs: this.#opts.clusterCIDRs,
    };
  }

  #rebuildAll(): void {
    const keys = new Set<string>(this.#servicePlans.keys());
    for (const svc of this.#opts.store.list('Service')) keys.add(`${svc.meta.namespace}/${svc.meta.name}`);
    for (const key of keys) this.#rebuildService(key);
  }

  /** Recomputes one service's plans in every family and records the plan keys that changed. */
  #rebuildService(svcKey: string): void {
    const { store, log } = this.#opts;
    const svc = store.get('Service', svcKey);
    const ctx = this.#planContext();
    const old = this.#servicePlans.get(svcKey);
    const next = new Map<Family, ServicePortPlan[]>();
    for (const f of this.#families) {
      let plans: ServicePortPlan[] = [];
      if (isProxied(svc)) {
        try {
          plans = buildPlans(svc, store.endpointSlicesFor(svcKey), f.family, ctx);
        } catch (err) {
          // Bad input loses nothing: the service keeps the plans it had.
          log.error({ err, service: svcKey }, 'cannot build plans for service; keeping its previous rules');
          plans = old?.get(f.family) ?? [];
        }
      }
      const before = new Map((old?.get(f.family) ?? []).map((p) => [planKey(p), p]));
      for (const p of plans) {
        const key = planKey(p);
        const prev = before.get(key);
        before.delete(key);
        // A slice update that changes nothing the plan holds (a hostname, the
        // other family's addresses) costs the backend nothing.
        if (prev && plansEqual(prev, p)) continue;
        f.plans.set(key, p);
        f.changed.add(key);
      }
      for (const key of before.keys()) {
        f.plans.delete(key);
        f.changed.add(key);
      }
      // Keep the objects the PlanSet holds, so `applied` and the cache agree on identity.
      if (plans.length > 0) next.set(f.family, plans.map((p) => f.plans.get(planKey(p)) ?? p));
    }
    if (next.size > 0) this.#servicePlans.set(svcKey, next);
    else this.#servicePlans.delete(svcKey);
    const hasHealthCheck = [...next.values()].some((plans) => plans.some((p) => p.healthCheckNodePort !== 0));
    if (hasHealthCheck) this.#healthCheckServices.add(svcKey);
    else this.#healthCheckServices.delete(svcKey);
  }

  /** kubeproxy_network_programming_duration_seconds: slice change trigger → rules applied everywhere. */
  #observeProgramming(): void {
    const now = Date.now(); // trigger times are wall-clock times set by the endpoints controller
    for (const [svc, times] of this.#triggerTimes) {
      const families = this.#servicePlans.get(svc);
      for (const t of times) {
        if (t <= 0 || t > now) continue;
        for (const f of families?.keys() ?? []) {
          this.#opts.metrics.networkProgramming.observe({ ip_family: familyLabel(f) }, (now - t) / 1000);
        }
      }
    }
    this.#triggerTimes = new Map();
  }

  async #syncHealthChecks(): Promise<void> {
    const hc = this.#opts.healthChecks;
    if (!hc) return;
    const want = new Map<string, HealthCheckService>();
    for (const svcKey of this.#healthCheckServices) {
      const byFamily = this.#servicePlans.get(svcKey);
      if (!byFamily) continue;
      let port = 0;
      const localReady = new Set<string>();
      for (const plans of byFamily.values()) {
        for (const p of plans) {
          if (!p.healthCheckNodePort) continue;
          port = p.healthCheckNodePort;
          // Only ready endpoints count: a node whose local pods are all terminating must fail
          // its health check so the load balancer drains it (KEP-1669).
          for (const ep of p.localEndpoints) if (ep.ready) localReady.add(ep.ip);
        }
      }
      if (port) want.set(svcKey, { port, localEndpoints: localReady.size });
    }
    try {
      await hc.sync(want);
    } catch (err) {
      this.#opts.log.error({ err }, 'cannot update health check servers');
    }
  }
}
