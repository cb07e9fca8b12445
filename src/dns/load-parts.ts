import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Logger } from '../agent/log.ts';
import { ConfigError } from '../errors.ts';
import { absoluteZone, defaultDnsConfig, parseListen } from './config.ts';
import type { DnsConfig } from './config.ts';
import type { Forwarder } from './forwarder.ts';
import type { Observation } from './handler.ts';

// The parts of the DNS server another room of src/dns/ provides: the
// Corefile parser (corefile.ts), the forwarder (forward/index.ts) and the
// coredns_* metrics (metrics.ts). They are loaded by name at run time so the
// server builds and runs without them; each loader says plainly when its
// part is missing instead of pretending.

interface CorefileModule {
  parseCorefile(text: string, file: string): DnsConfig;
}
interface ForwardModule {
  createForwarder(config: DnsConfig, log: Logger, registry?: Registry): Forwarder | null;
}
interface MetricsModule {
  createDnsMetrics(registry: Registry): (o: Observation) => void;
}

async function optionalModule<T>(relative: string): Promise<T | null> {
  const url = new URL(relative, import.meta.url);
  try {
    return (await import(url.href)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(url.pathname)) return null;
    throw err;
  }
}

export interface DnsConfigSources {
  corefile?: string;
  /** --listen, wins over the Corefile. */
  listen?: string;
  /** The agent's dns.clusterDomain; replaces the default cluster zone when no Corefile is given. */
  clusterDomain?: string;
}

/** The DnsConfig from a Corefile, or kubeadm's defaults, with command-line overrides applied. */
export async function loadDnsConfig(src: DnsConfigSources): Promise<DnsConfig> {
  let config = defaultDnsConfig();
  if (src.corefile) {
    const mod = await optionalModule<CorefileModule>('./corefile.ts');
    if (!mod) throw new ConfigError('corefile', 'this build has no Corefile parser (src/dns/corefile.ts); run without --corefile for the default zones');
    let text: string;
    try {
      text = await readFile(src.corefile, 'utf8');
    } catch (err) {
      throw new ConfigError('corefile', `cannot read ${src.corefile}: ${(err as Error).message}`);
    }
    config = mod.parseCorefile(text, src.corefile);
  } else if (src.clusterDomain) {
    config.zones = [absoluteZone(src.clusterDomain), ...config.zones.filter((z) => z.endsWith('.arpa.'))];
  }
  if (src.listen) config.listen = src.listen.split(',').map((l) => parseListen(l, 'listen'));
  return config;
}

/** The forwarder for names outside the cluster zones, or null (the server then answers REFUSED). */
export async function loadForwarder(config: DnsConfig, log: Logger, registry?: Registry): Promise<Forwarder | null> {
  const mod = await optionalModule<ForwardModule>('./forward/index.ts');
  if (!mod) {
    log.warn('no forwarder in this build: names outside the cluster zones are answered REFUSED');
    return null;
  }
  return mod.createForwarder(config, log, registry);
}

/** The metrics hook, or undefined when this build has none. */
export async function loadMetrics(registry: Registry): Promise<((o: Observation) => void) | undefined> {
  const mod = await optionalModule<MetricsModule>('./metrics.ts');
  return mod?.createDnsMetrics(registry);
}
