import { ConfigError } from '../base/errors.ts';
import { iptablesBackendOptions, proxierOptions } from './config.ts';
import type { AgentContext, Component } from './component.ts';

/**
 * The consumers the config asks for, in the order they start (Felix's habit:
 * a fixed, documented order). Each lives in its own room and is loaded only
 * when enabled.
 */
export async function createComponents(ctx: AgentContext): Promise<Component[]> {
  const components: Component[] = [];
  if (ctx.config.proxy.mode === 'ipvs') {
    // Accepted by the schema because KubeProxyConfiguration files name it; refused
    // here rather than silently running without a service proxy.
    throw new ConfigError('proxy.mode', 'the IPVS backend is not part of this version of netlet; use iptables (or none)');
  }
  if (ctx.config.proxy.mode === 'iptables') {
    const { ProxierComponent } = await import('../proxier/component.ts');
    const { createIptablesBackend } = await import('../iptables/index.ts');
    const backendFactory = (family: 4 | 6) =>
      createIptablesBackend({ family, log: ctx.log.child({ backend: 'iptables' }),
        ...iptablesBackendOptions(ctx.config),
        metrics: ctx.metrics,
       });
    components.push(new ProxierComponent(ctx, { proxy: proxierOptions(ctx.config), backendFactory }));
  }
  if (ctx.config.routes.enabled) components.push(new (await import('../routes/component.ts')).RoutesComponent(ctx, { mode: ctx.config.routes.mode }));
  if (ctx.config.dns.enabled) {
    const { corefile, listen, clusterDomain } = ctx.config.dns;
    components.push(new (await import('../dns/component.ts')).DnsComponent(ctx, { corefile, listen, clusterDomain }));
  }
  if (ctx.config.cni.serve) components.push(new (await import('../cni/component.ts')).CniServerComponent(ctx, ctx.config.cni.socket));
  return components;
}
