import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import { ConfigError } from '../base/errors.ts';
import { absoluteZone, allBlocks, defaultDnsConfig, parseListen } from './corefile/config.ts';
import type { DnsConfig } from './corefile/config.ts';
import { parseCorefile } from './corefile/parse.ts';
import { createForwarder } from './forward-chain.ts';
import type { Forwarder } from './forward/forwarder.ts';
import type { Observation } from './answer/handler.ts';
import { createDnsMetrics } from './metrics/coredns-metrics.ts';
import { serverLabel } from './server-label.ts';
import type { WorkerMetricsRecorder } from './metrics/worker-metrics.ts';

// What a DNS server is built from, in the component and in worker threads:
// the config (Corefile or kubeadm's defaults, plus command-line overrides),
// the forwarder and the coredns_* metrics hook.

export interface DnsConfigSources {
  corefile?: string;
  /** --listen, wins over the Corefile. */
  listen?: string;
  /** The agent's dns.clusterDomain; replaces the default cluster zone when no Corefile is given. */
  clusterDomain?: string;
  /** --workers, wins over the config's 1 (a Corefile has no directive for it). */
  workers?: number;
}

/** The DnsConfig from a Corefile, or kubeadm's defaults, with command-line overrides applied. */
export async function loadDnsConfig(src: DnsConfigSources): Promise<DnsConfig> {
  let config = defaultDnsConfig();
  if (src.corefile) {
    let text: string;
    try {
      text = await readFile(src.corefile, 'utf8');
    } catch (err) {
      throw new ConfigError('corefile', `cannot read ${src.corefile}: ${(err as Error).message}`);
    }
    config = parseCorefile(text, src.corefile);
  } else if (src.clusterDomain) {
    config.zones = [absoluteZone(src.clusterDomain), ...config.zones.filter((z) => z.endsWith('.arpa.'))];
  }
  return withOverrides(config, src);
}

/**
 * `config` with what the command line (or the agent's options) says in
 * place of the Corefile's. `--listen` replaces the addresses of the blocks
 * on the first block's port; blocks on other ports keep theirs.
 */
export function withOverrides(config: DnsConfig, src: DnsConfigSources): DnsConfig {
  if (src.listen) {
    const listen = src.listen.split(',').map((l) => parseListen(l, 'listen'));
    const port = config.listen[0]?.port;
    for (const b of allBlocks(config)) if (b === config || b.listen[0]?.port === port) b.listen = listen;
  }
  if (src.workers !== undefined) config.workers = src.workers;
  return config;
}

/** The forwarder for names outside the cluster zones, or null when the config has no `forward` (the server then answers REFUSED). */
export async function loadForwarder(config: DnsConfig, log: Logger, registry?: Registry, recorder?: WorkerMetricsRecorder): Promise<Forwarder | null> {
  return createForwarder(config, log, registry, { recorder });
}

/** The forwarders of the further server blocks, in their order. */
export async function loadBlockForwarders(config: DnsConfig, log: Logger, registry?: Registry): Promise<Array<Forwarder | null>> {
  return Promise.all((config.otherBlocks ?? []).map((b) => loadForwarder(b, log, registry)));
}

/** The hook that feeds the coredns_* metrics, labelled with the config's server address (server-label.ts). */
export async function loadMetrics(registry: Registry, config: DnsConfig): Promise<(o: Observation) => void> {
  return createDnsMetrics(registry, { server: serverLabel(config), zone: '.', family: '1' });
}
