import { ConfigError } from '../../base/errors.ts';
import { absoluteZone, defaultDnsConfig } from './config.ts';
import type { DnsConfig } from './config.ts';
import { PLUGINS } from './plugins.ts';
import { parseCorefileSyntax } from './syntax.ts';

/**
 * A Corefile (the subset a cluster uses: kubeadm's, plus hosts and the
 * forward/cache knobs) → DnsConfig. Plugins not listed are off; plugins and
 * properties netlet does not implement are refused by name and line rather
 * than ignored, so nobody believes a `rewrite` rule is in force when it is not.
 */
export function parseCorefile(text: string, file = 'Corefile'): DnsConfig {
  const blocks = parseCorefileSyntax(text, file);
  if (blocks.length === 0) throw new ConfigError('corefile', `${file}: no server block`);
  if (blocks.length > 1) throw new ConfigError('corefile', `${file} line ${blocks[1].line}: only one server block is supported (netlet serves one '.' block)`);
  const block = blocks[0];
  let port = 53;
  const zones: string[] = [];
  for (const key of block.keys) {
    const m = /^(?:dns:\/\/)?([^:]*)(?::(\d+))?$/.exec(key);
    if (!m) throw new ConfigError('corefile', `${file} line ${block.line}: server block key '${key}' is not ZONE[:PORT] (only plain dns:// servers are supported)`);
    if (m[2] !== undefined) port = Number(m[2]);
    zones.push(absoluteZone(m[1] || '.'));
  }
  if (!zones.every((z) => z === '.')) {
    throw new ConfigError('corefile', `${file} line ${block.line}: server block zones ${zones.join(' ')}: only the root zone '.' is supported as a server block`);
  }

  const config = defaultDnsConfig();
  // Only what the Corefile lists is on.
  Object.assign(config, { listen: [{ host: '0.0.0.0', port }], zones: [], fallthrough: [], upstreams: [], health: '', ready: '', prometheus: '', loadbalance: false, log: false, errors: false, hosts: null, loop: false, reload: null });
  config.cache = { enabled: false, successTtl: 0, denialTtl: 0, prefetch: 0 };
  const seen = new Set<string>();
  for (const d of block.directives) {
    const read = PLUGINS[d.name];
    if (!read) throw new ConfigError(d.name, `${file} line ${d.line}: plugin '${d.name}' is not supported by netlet`);
    if (seen.has(d.name)) throw new ConfigError(d.name, `${file} line ${d.line}: plugin '${d.name}' appears twice`);
    seen.add(d.name);
    read(d, config, { file, blockZones: zones });
  }
  return config;
}
