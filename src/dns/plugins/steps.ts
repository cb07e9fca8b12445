import type { FrontPlugin } from '../corefile/front-config.ts';
import { pluginRank } from '../corefile/plugin-order.ts';
import { AclStep } from './acl.ts';
import { AnyStep } from './any.ts';
import { BufsizeStep } from './bufsize.ts';
import { ChaosStep } from './chaos.ts';
import { LocalStep } from './local.ts';
import { MinimalStep } from './minimal.ts';
import type { Step } from './pipeline.ts';
import { RewriteStep } from './rewrite.ts';
import { WhoamiStep } from './whoami.ts';
import { TemplateStep } from './template.ts';
import { FileStep } from './file.ts';
import { AutopathStep } from './autopath.ts';
import { LoadBalanceStep } from './load-balance.ts';
import { clientIp } from './pipeline.ts';
import type { Logger } from '../../base/log.ts';
import { ConfigError } from '../../base/errors.ts';

/** What some steps need to know of the block around them. */
export interface BlockView {
  /** True when the block's kubernetes, hosts or forward would take this name (whoami answers the rest). */
  othersTake(name: string): boolean;
  log?: Logger;
  /** The namespace of the pod with this address (pods verified), for autopath @kubernetes. */
  podNamespace?(ip: string): string | undefined;
  /** The block's cluster zone (its kubernetes plugin's first forward zone). */
  clusterZone?: string;
}

/** The block's front plugins as steps, in the order a query meets them (plugin.cfg's). */
export function buildSteps(front: readonly FrontPlugin[], block: BlockView): Step[] {
  const sorted = [...front].sort((a, b) => pluginRank(a.plugin) - pluginRank(b.plugin));
  return sorted.map((p): Step => {
    switch (p.plugin) {
      case 'bufsize':
        return new BufsizeStep(p.size);
      case 'local':
        return new LocalStep();
      case 'acl':
        return new AclStep(p.zones, p.rules);
      case 'any':
        return new AnyStep();
      case 'chaos':
        return new ChaosStep(p.version, p.authors);
      case 'rewrite':
        return new RewriteStep(p.rules);
      case 'minimal':
        return new MinimalStep();
      case 'autopath':
        return new AutopathStep(p.zones, (ask) => {
          if (!p.fromKubernetes) return [...p.search, ''];
          const ns = block.podNamespace?.(clientIp(ask));
          const zone = block.clusterZone;
          if (!ns || !zone) return null;
          return [`${ns}.svc.${zone}`, `svc.${zone}`, zone, ...p.search, ''];
        });
      case 'whoami':
        return new WhoamiStep((name) => block.othersTake(name));
      case 'template':
        return new TemplateStep(p.templates);
      case 'loadbalance':
        try {
          return new LoadBalanceStep(p, block.log);
        } catch (err) {
          throw new ConfigError('loadbalance', (err as Error).message);
        }
      case 'file':
        try {
          return new FileStep(p.path, p.zones, p.reloadMs, block.log);
        } catch (err) {
          // A zone file that cannot be read or parsed stops the start, as CoreDNS's does.
          throw new ConfigError('file', `zone file ${(err as Error).message}`);
        }
    }
  });
}
