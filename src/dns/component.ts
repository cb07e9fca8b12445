import type { Server } from 'node:http';
import type { AgentContext, Component } from '../agent/component.ts';
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
export class DnsComponent implements Component {
  readonly name = 'dns';
  readonly #ctx: AgentContext;
  #dns: ClusterDns | null = null;
  #http: Server[] = [];
  #watcher: CorefileWatcher | null = null;
  #observe: Awaited<ReturnType<typeof loadMetrics>> | undefined;

  constructor(ctx: AgentContext) {
    this.#ctx = ctx;
  }

  async start(): Promise<void> {
    const { config: agentConfig, log: parentLog } = this.#ctx;
    const log = parentLog.child({ component: 'dns' });
    const corefile = agentConfig.dns.corefile || undefined;
    const config = await loadDnsConfig({ corefile, listen: agentConfig.dns.listen, clusterDomain: agentConfig.dns.clusterDomain });
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
          next = await loadDnsConfig({ corefile, listen: agentConfig.dns.listen, clusterDomain: agentConfig.dns.clusterDomain });
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
