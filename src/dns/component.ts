import type { Server } from 'node:http';
import type { Component, ComponentContext } from '../base/component.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { ClusterDns } from './cluster-dns.ts';
import type { DnsConfig } from './config.ts';
import { CorefileWatcher } from './corefile-reload.ts';
import { startDnsHttp, stopDnsHttp } from './http-endpoints.ts';
import { loadDnsConfig, loadForwarder, loadMetrics } from './load-parts.ts';

/**
 * The agent's cluster DNS (`--dns`, or dns.enabled in the config file). With
 * a Corefile it also runs what the Corefile asks of the process, as `netlet
 * dns` does: the health/ready/prometheus endpoints and `reload`. Without one,
 * the agent's own /healthz and /metrics cover it and no extra port is opened.
 */
export type DnsContext = ComponentContext & { store: ObjectStore };

/** The dns section of the agent config. */
export interface DnsComponentOptions {
  /** A Corefile to read; undefined means the built-in default. */
  corefile?: string;
  /** UDP and TCP address(es) to answer on, comma separated. */
  listen: string;
  clusterDomain: string;
}

export class DnsComponent implements Component {
  readonly name = 'dns';
  readonly #ctx: DnsContext;
  readonly #options: DnsComponentOptions;
  #dns: ClusterDns | null = null;
  #http: Server[] = [];
  #watcher: CorefileWatcher | null = null;
  #observe: Awaited<ReturnType<typeof loadMetrics>> | undefined;

  constructor(ctx: DnsContext, options: DnsComponentOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  async start(): Promise<void> {
    const { log: parentLog } = this.#ctx;
    const { listen, clusterDomain } = this.#options;
    const log = parentLog.child({ component: 'dns' });
    const corefile = this.#options.corefile || undefined;
    const config = await loadDnsConfig({ corefile, listen, clusterDomain });
    // Registered once: a reload reuses them (a registry refuses a name twice).
    this.#observe = await loadMetrics(this.#ctx.metrics);
    this.#dns = await this.#startDns(config);
    log.info({ listen: this.#dns.server.addresses(), zones: config.zones }, 'cluster DNS serving');
    if (!corefile) return;

    this.#http = await startDnsHttp({
      health: config.health,
      ready: config.ready,
      prometheus: config.prometheus,
      isReady: () => this.ready(),
      registry: this.#ctx.metrics,
    });
    if (config.reload) {
      this.#watcher = new CorefileWatcher(corefile, config.reload, async () => {
        let next: DnsConfig;
        try {
          next = await loadDnsConfig({ corefile, listen, clusterDomain });
        } catch (err) {
          log.error({ err }, 'Corefile changed but does not parse; keeping the running configuration');
          return;
        }
        await this.#dns?.stop();
        this.#dns = await this.#startDns(next);
        log.info({ listen: this.#dns.server.addresses(), zones: next.zones }, 'Corefile reloaded');
      });
      await this.#watcher.start();
    }
  }

  async #startDns(config: DnsConfig): Promise<ClusterDns> {
    const { log: parentLog, store, metrics } = this.#ctx;
    const log = parentLog.child({ component: 'dns' });
    const dns = new ClusterDns({
      store,
      config,
      forwarder: await loadForwarder(config, log, metrics),
      registry: metrics,
      observe: this.#observe,
      onError: (err, where) => {
        log.warn({ err, where }, 'dns error');
      },
      log,
    });
    await dns.start();
    return dns;
  }

  async stop(): Promise<void> {
    this.#watcher?.stop();
    this.#watcher = null;
    await stopDnsHttp(this.#http);
    this.#http = [];
    await this.#dns?.stop();
    this.#dns = null;
  }

  healthy(): boolean {
    return this.#dns !== null;
  }

  /** For a /ready endpoint: the store has synced what the zones need. */
  ready(): boolean {
    return this.#dns?.ready() ?? false;
  }
}
