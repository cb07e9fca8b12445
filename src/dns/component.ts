import type { AgentContext, Component } from '../agent/component.ts';
import { ClusterDns } from './cluster-dns.ts';
import { loadDnsConfig, loadForwarder, loadMetrics } from './optional-parts.ts';

/** The agent's cluster DNS (`--dns`, or dns.enabled in the config file). */
export class DnsComponent implements Component {
  readonly name = 'dns';
  readonly #ctx: AgentContext;
  #dns: ClusterDns | null = null;

  constructor(ctx: AgentContext) {
    this.#ctx = ctx;
  }

  async start(): Promise<void> {
    const { config: agentConfig, log: parentLog, store, metrics } = this.#ctx;
    const log = parentLog.child({ component: 'dns' });
    const config = await loadDnsConfig({
      corefile: agentConfig.dns.corefile || undefined,
      listen: agentConfig.dns.listen,
      clusterDomain: agentConfig.dns.clusterDomain,
    });
    this.#dns = new ClusterDns({
      store,
      config,
      forwarder: await loadForwarder(config, log, metrics),
      observe: await loadMetrics(metrics),
      onError: (err, where) => {
        log.warn({ err, where }, 'dns error');
      },
      log,
    });
    await this.#dns.start();
    log.info({ listen: this.#dns.server.addresses(), zones: config.zones }, 'cluster DNS serving');
  }

  async stop(): Promise<void> {
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
