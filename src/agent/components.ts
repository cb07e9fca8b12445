import type { ClusterConnection } from '../k8s/connection.ts';
import { proxierOptions } from './config.ts';
import type { AgentContext, Component } from './component.ts';
import { configuredBackend } from './proxy-backends.ts';

/**
 * The consumers the config asks for, in the order they start (Felix's habit:
 * a fixed, documented order). Each lives in its own room and is loaded only
 * when enabled.
 */
export async function createComponents(ctx: AgentContext, from: { connection?: ClusterConnection } = {}): Promise<Component[]> {
  const components: Component[] = [];
  // The proxy.mode's backend (agent/proxy-backends.ts); a mode netlet has no backend for is a ConfigError naming proxy.mode.
  const backend = await configuredBackend(ctx.config, { log: ctx.log, metrics: ctx.metrics });
  if (backend) {
    const { ProxierComponent } = await import('../proxier/component.ts');
    components.push(new ProxierComponent(ctx, { proxy: proxierOptions(ctx.config), backend }));
  }
  if (ctx.config.bgp.enabled) {
    // BGP is then the routing fabric: the store claims only this node's blocks (their blackholes), the speaker the rest.
    const { BgpComponent } = await import('../bgp/component.ts');
    const { bgpComponentOptions } = await import('./bgp-options.ts');
    const { BGP_ROUTES_PROTOCOL } = await import('../routes/route-table.ts');
    const bgp = new BgpComponent(ctx, bgpComponentOptions(ctx.config));
    components.push(bgp);
    const { RoutesComponent } = await import('../routes/component.ts');
    const { mode, encapsulation, vxlan } = ctx.config.routes;
    components.push(new RoutesComponent(ctx, { mode, modeOptions: { encapsulation, vxlan }, sources: [bgp.routeSource()], storeOwnOnly: true, protocols: [BGP_ROUTES_PROTOCOL] }));
  } else if (ctx.config.routes.enabled) {
    const { mode, encapsulation, vxlan } = ctx.config.routes;
    components.push(new (await import('../routes/component.ts')).RoutesComponent(ctx, { mode, modeOptions: { encapsulation, vxlan } }));
  }
  if (ctx.config.dns.enabled) {
    const { corefile, listen, clusterDomain } = ctx.config.dns;
    components.push(new (await import('../dns/component.ts')).DnsComponent(ctx, { corefile, listen, clusterDomain }));
  }
  if (ctx.config.cni.serve) {
    // Block claims made for the CNI calls use the agent's own connection (its --kubeconfig), not a default chain of their own.
    const { CniServerComponent } = await import('../cni/component.ts');
    components.push(new CniServerComponent(ctx, { socket: ctx.config.cni.socket, connection: from.connection }));
  }
  return components;
}

/**
 * Whether a component may run only while the agent holds the writer lease
 * (writer-lease.ts): those that write the node's kernel tables (service
 * rules, routes), and the BGP speaker, which is the node toward its peers (one
 * listener on its port, one router ID; the old agent's sessions close and the
 * peers keep its routes through graceful restart until the new one is up).
 * DNS writes nothing; the CNI server writes only the pods' namespaces it is
 * asked to, one call at a time under IPAM's locks, and the new agent's server
 * takes the socket over as it starts.
 */
export function needsWriterLease(c: Component): boolean {
  return c.name === 'proxier' || c.name === 'routes' || c.name === 'bgp';
}
