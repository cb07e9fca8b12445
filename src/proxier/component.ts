// The proxier as an agent component: one backend per IP family the node can
// run (from the configured backend, which also brings its sync periods), the
// conntrack cleaner and the healthCheckNodePort servers, and sets the
// conntrack sysctls once at start as kube-proxy does.

import { existsSync } from 'node:fs';
import { NetletError } from '../base/errors.ts';
import type { Component, ComponentContext } from '../base/component.ts';
import type { ObjectStore } from '../k8s/store.ts';
import type { ProxyBackend } from './backend.ts';
import type { ConfiguredBackend } from './backend-kind.ts';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import { ConntrackCleaner } from './conntrack-cleaner.ts';
import { NetlinkConntrackTable } from '../netlink/conntrack.ts';
import { applyConntrackSysctls } from './conntrack-sysctls.ts';
import type { ConntrackConfig } from './conntrack-sysctls.ts';
import type { ConntrackTable } from './conntrack-table.ts';
import { HttpHealthCheckServers } from './healthcheck-servers.ts';
import type { HealthCheckServers } from './healthcheck-servers.ts';
import { parseCIDRList } from './ip-family.ts';
import { ProxierMetrics } from './metrics.ts';
import { nodePortAddressesFor, validateNodePortAddresses } from './node-port-addresses.ts';
import type { Family } from './plan.ts';
import { Proxier } from './proxier.ts';

export type ProxierContext = ComponentContext & { store: ObjectStore };

/** The proxy section of the config, as the proxier reads it (durations in ms). */
export interface ProxyOptions {
  masqueradeAll: boolean;
  /** Pod CIDR(s), comma separated. */
  clusterCIDR: string;
  nodePortAddresses: string[];
  conntrack: ConntrackConfig;
}

export interface ProxierComponentDeps {
  proxy: ProxyOptions;
  /** The configured backend: its sync periods and one backend per family. */
  backend: ConfiguredBackend;
  /** Defaults to IPv4, plus IPv6 when the kernel has it enabled. */
  families?: Family[];
  /** Defaults to ctnetlink; null turns UDP conntrack cleanup off. */
  conntrackTable?: ConntrackTable | null;
  /** Defaults to real HTTP listeners. */
  healthChecks?: HealthCheckServers;
  /** false skips the conntrack sysctls (tests). */
  applySysctls?: boolean;
  clock?: Clock;
}

/** IPv6 is usable when the kernel exposes it (kube-proxy also checks for ip6tables; the backend factory does that). */
export function detectFamilies(): Family[] {
  return existsSync('/proc/net/if_inet6') ? [4, 6] : [4];
}

export class ProxierComponent implements Component {
  readonly name = 'proxier';
  readonly #ctx: ProxierContext;
  readonly #deps: ProxierComponentDeps;
  #proxier: Proxier | undefined;

  constructor(ctx: ProxierContext, deps: ProxierComponentDeps) {
    validateNodePortAddresses(deps.proxy.nodePortAddresses);
    this.#ctx = ctx;
    this.#deps = deps;
  }

  get proxier(): Proxier | undefined {
    return this.#proxier;
  }

  async start(): Promise<void> {
    const { log, metrics, store, nodeName } = this.#ctx;
    const proxy = this.#deps.proxy;
    if (this.#deps.applySysctls !== false) await applyConntrackSysctls(proxy.conntrack, log);

    const backends = new Map<Family, ProxyBackend>();
    for (const family of this.#deps.families ?? detectFamilies()) {
      try {
        backends.set(family, await this.#deps.backend.create(family));
      } catch (err) {
        // A node without ip6tables still proxies IPv4 (kube-proxy runs single-stack then).
        if (family === 4) throw err;
        log.warn({ err, family }, 'IPv6 service proxying unavailable; running IPv4 only');
      }
    }
    if (backends.size === 0) throw new NetletError('ERR_PROXY_BACKEND', 'no IP family can be proxied on this node');
    let conntrack: ConntrackCleaner | undefined;
    if (this.#deps.conntrackTable !== null) {
      try {
        conntrack = new ConntrackCleaner(this.#deps.conntrackTable ?? new NetlinkConntrackTable(), log);
      } catch (err) {
        log.warn({ err }, 'cannot open ctnetlink; stale UDP conntrack entries will not be cleaned');
      }
    }
    const { periods } = this.#deps.backend;
    let warnedNoNodePortAddress = false;
    const proxier: Proxier = new Proxier({
      store,
      nodeName,
      backends,
      log: log.child({ component: 'proxier' }),
      metrics: new ProxierMetrics(metrics),
      masqueradeAll: proxy.masqueradeAll,
      clusterCIDRs: parseCIDRList(proxy.clusterCIDR),
      minSyncPeriodMs: periods.minSyncPeriod,
      syncPeriodMs: periods.syncPeriod,
      fullSyncPeriodMs: periods.fullSyncPeriod,
      nodePortAddresses: (family, node) => {
        const addrs = nodePortAddressesFor(family, proxy.nodePortAddresses, node);
        if (addrs.length === 0 && proxy.nodePortAddresses.length > 0 && !warnedNoNodePortAddress) {
          warnedNoNodePortAddress = true;
          log.warn({ nodePortAddresses: proxy.nodePortAddresses, family }, 'no local address matches nodePortAddresses; NodePorts are accepted on every address');
        }
        return addrs;
      },
      conntrack,
      healthChecks:
        this.#deps.healthChecks ??
        new HttpHealthCheckServers({
          log,
          proxyHealthy: () => proxier.healthy(),
          // kube-proxy serves healthCheckNodePorts on the NodePort addresses.
          hosts: () => [...backends.keys()].flatMap((f) => nodePortAddressesFor(f, proxy.nodePortAddresses, store.get('Node', nodeName))),
        }),
      clock: this.#deps.clock,
    });
    this.#proxier = proxier;
    await proxier.start();
  }

  async stop(): Promise<void> {
    await this.#proxier?.stop();
  }

  healthy(): boolean {
    return this.#proxier?.healthy() ?? true;
  }

  details(): Record<string, unknown> {
    const excluded = this.#proxier?.excludedServicePorts() ?? [];
    return excluded.length > 0 ? { excludedServicePorts: excluded } : {};
  }
}
