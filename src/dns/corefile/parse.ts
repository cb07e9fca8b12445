import { ConfigError } from '../../base/errors.ts';
import { defaultDnsConfig } from './config.ts';
import type { DnsConfig } from './config.ts';
import { pluginRank, RENAMED_PLUGINS } from './plugin-order.ts';
import { PLUGINS } from './plugins.ts';
import { parseServerKeys } from './server-keys.ts';
import { parseCorefileSyntax } from './syntax.ts';
import type { ServerBlock } from './syntax.ts';

/**
 * A Corefile → DnsConfig: the first server block's, carrying the others in
 * `otherBlocks`. Plugins not listed are off; plugins and properties netlet
 * does not implement are refused by name and line rather than ignored, so
 * nobody believes a rule is in force when it is not. Old spellings whose
 * meaning is clear are accepted with a warning in `warnings`.
 */
export function parseCorefile(text: string, file = 'Corefile', report?: CorefileReport): DnsConfig {
  const blocks = parseCorefileSyntax(text, file);
  if (blocks.length === 0) throw new ConfigError('corefile', `${file}: no server block`);
  const configs = blocks.map((b) => readBlock(b, report));
  checkOverlaps(configs, blocks);
  const [first, ...others] = configs;
  hoistProcessWide(first, others, blocks);
  if (others.length) first.otherBlocks = others;
  return first;
}

/**
 * For `netlet dns --check`: each directive's outcome. With a report, a
 * refused directive is noted and skipped instead of stopping the parse, so
 * that one run lists everything a Corefile asks for that netlet refuses.
 */
export interface CorefileReport {
  blocks: Array<{ where: string; keys: string[]; ran: Array<{ plugin: string; where: string }> }>;
  refused: Array<{ where: string; message: string }>;
}

function readBlock(block: ServerBlock, report?: CorefileReport): DnsConfig {
  const where = `${block.file} line ${block.line}`;
  const { zones, port } = parseServerKeys(block.keys, where);
  const config = defaultDnsConfig();
  // Only what the Corefile lists is on.
  Object.assign(config, { listen: [{ host: '0.0.0.0', port }], zones: [], fallthrough: [], upstreams: [], health: '', ready: '', prometheus: '', loadbalance: false, log: false, errors: false, hosts: null, loop: false, reload: null });
  config.serverZones = zones;
  config.warnings = [];
  config.cache = { enabled: false, successTtl: 0, denialTtl: 0, prefetch: 0 };
  const seen = new Set<string>();
  const ran: Array<{ plugin: string; where: string }> = [];
  report?.blocks.push({ where, keys: block.keys, ran });
  for (const d of block.directives) {
    try {
      const name = RENAMED_PLUGINS[d.name] ?? d.name;
      const read = PLUGINS[name];
      if (!read) {
        const why = pluginRank(d.name) < 0 ? 'is not a plugin CoreDNS ships (an external plugin, or a typo)' : 'is not supported by netlet';
        throw new ConfigError(d.name, `${d.file} line ${d.line}: plugin '${d.name}' ${why}`);
      }
      if (seen.has(name) && !REPEATABLE.has(name)) throw new ConfigError(d.name, `${d.file} line ${d.line}: plugin '${d.name}' appears twice`);
      seen.add(name);
      read(d, config, { file: d.file, blockZones: zones });
      ran.push({ plugin: name, where: `${d.file} line ${d.line}` });
    } catch (err) {
      if (!report || !(err instanceof ConfigError)) throw err;
      report.refused.push({ where: `${d.file} line ${d.line}`, message: err.message });
    }
  }
  const autopath = config.front?.find((p) => p.plugin === 'autopath');
  if (autopath && autopath.plugin === 'autopath' && autopath.fromKubernetes && (config.zones.length === 0 || config.pods !== 'verified')) {
    const err = new ConfigError('autopath', `${where}: autopath @kubernetes needs the block's kubernetes plugin with 'pods verified' (to know the pod behind a client's address)`);
    if (!report) throw err;
    report.refused.push({ where, message: err.message });
  }
  return config;
}

/** Plugins CoreDNS lets a block list more than once. */
const REPEATABLE = new Set(['forward', 'bind', 'rewrite', 'template', 'file', 'acl']);

/** Two blocks may share an address only for different zones (CoreDNS: "cannot serve ZONE multiple times"). */
function checkOverlaps(configs: DnsConfig[], blocks: ServerBlock[]): void {
  const seen = new Map<string, number>();
  configs.forEach((c, i) => {
    for (const l of c.listen) {
      for (const z of c.serverZones ?? ['.']) {
        const key = `${z} ${l.host}:${l.port}`;
        const before = seen.get(key);
        if (before !== undefined && before !== i) {
          throw new ConfigError('corefile', `${blocks[i].file} line ${blocks[i].line}: zone ${z} on ${l.host}:${l.port} is already served by the block at ${blocks[before].file} line ${blocks[before].line}`);
        }
        seen.set(key, i);
      }
    }
  });
}

/**
 * health, ready, prometheus, reload, lameduck and the kubeconfig belong to
 * the process, whichever block lists them (CoreDNS also shares one
 * endpoint between blocks); two blocks asking for different values is an error.
 */
function hoistProcessWide(first: DnsConfig, others: DnsConfig[], blocks: ServerBlock[]): void {
  const keys = ['health', 'ready', 'prometheus', 'reload', 'lameduckMs', 'kubeconfig', 'kubeconfigContext', 'api', 'startupTimeoutMs'] as const;
  others.forEach((o, i) => {
    for (const k of keys) {
      const value = o[k];
      if (value === undefined || value === null || value === '') continue;
      const mine = first[k];
      if (mine !== undefined && mine !== null && mine !== '' && JSON.stringify(mine) !== JSON.stringify(value)) {
        throw new ConfigError('corefile', `${blocks[i + 1].file} line ${blocks[i + 1].line}: '${k}' differs from the block at ${blocks[0].file} line ${blocks[0].line}; it is one per process in netlet`);
      }
      (first as unknown as Record<string, unknown>)[k] = value;
    }
    first.warnings!.push(...(o.warnings ?? []));
  });
}
