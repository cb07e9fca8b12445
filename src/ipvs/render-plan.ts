// One plan in IPVS's words: its virtual servers (ClusterIP, external IPs,
// load balancer IPs, node IP × nodePort) with their real servers, the
// addresses kube-ipvs0 must hold, and the ipset entries kube-proxy's IPVS
// mode would write for it. Nothing is decided here: which endpoints each
// address gets, affinity and the firewall come from the plan
// (proxier/plan-builder.ts).

import { schedulerFlags, serviceKey, SVC_F, destKey } from '../netlink/ipvs-codec.ts';
import type { IpvsDest, IpvsService } from '../netlink/ipvs-codec.ts';
import type { PlanEndpoint, ServicePortPlan } from '../proxier/plan.ts';
import type { VirtualServer } from './table-diff.ts';
import { SET } from './ipset-names.ts';
import type { SetName } from './ipset-names.ts';

export interface IpvsRenderContext {
  scheduler: string;
  /** This node's addresses of the plan's family that take NodePorts. */
  nodeIPs: readonly string[];
  /** Addresses already on another interface of the node: not bound to kube-ipvs0. */
  foreignLocal: ReadonlySet<string>;
}

export interface PlanRender {
  /** The plan object rendered: a partial sync keeps the render of an unchanged plan. */
  plan: ServicePortPlan;
  virtualServers: Map<string, VirtualServer>;
  /** Addresses for kube-ipvs0. */
  addresses: string[];
  /** ipset entries by set (family-neutral names; ipset-names.ts adds KUBE-6- for IPv6). */
  entries: Array<[SetName, string]>;
}

const WEIGHT = 1;

function dests(endpoints: readonly PlanEndpoint[]): Map<string, IpvsDest> {
  const out = new Map<string, IpvsDest>();
  for (const e of endpoints) {
    const d = { address: e.ip, port: e.port, weight: WEIGHT };
    out.set(destKey(d), d);
  }
  return out;
}

export function renderPlan(plan: ServicePortPlan, ctx: IpvsRenderContext): PlanRender {
  const proto = plan.protocol;
  const affinity = plan.affinityTimeoutSeconds > 0;
  const virtualServers = new Map<string, VirtualServer>();
  const add = (address: string, port: number, endpoints: readonly PlanEndpoint[]): void => {
    const service: IpvsService = {
      family: plan.family,
      protocol: proto,
      address,
      port,
      scheduler: ctx.scheduler,
      flags: schedulerFlags(ctx.scheduler) | (affinity ? SVC_F.PERSISTENT : 0),
      timeout: affinity ? plan.affinityTimeoutSeconds : 0,
    };
    virtualServers.set(serviceKey(service), { service, dests: dests(endpoints) });
  };
  const internal = plan.internalTraffic === 'local' ? plan.localEndpoints : plan.clusterEndpoints;
  const external = plan.externalTraffic === 'local' ? plan.localEndpoints : plan.clusterEndpoints;
  const local = plan.externalTraffic === 'local';
  const ipPort = (ip: string): string => `${ip},${proto}:${plan.port}`;

  const entries: Array<[SetName, string]> = [];
  const addresses: string[] = [];
  const bind = (ip: string): void => {
    if (!ctx.foreignLocal.has(ip)) addresses.push(ip);
  };

  add(plan.clusterIP, plan.port, internal);
  bind(plan.clusterIP);
  entries.push([SET.clusterIP, ipPort(plan.clusterIP)]);

  for (const ip of plan.externalIPs) {
    add(ip, plan.port, external);
    bind(ip);
    entries.push([local ? SET.externalIPLocal : SET.externalIP, ipPort(ip)]);
  }
  for (const ip of plan.loadBalancerIPs) {
    add(ip, plan.port, external);
    bind(ip);
    entries.push([SET.loadBalancer, ipPort(ip)]);
    if (local) entries.push([SET.loadBalancerLocal, ipPort(ip)]);
    if (plan.firewall) {
      entries.push([SET.loadBalancerFW, ipPort(ip)]);
      // A host route is written without its prefix, as `ipset save` prints it, so adoption finds it again.
      for (const cidr of plan.loadBalancerSourceRanges) entries.push([SET.loadBalancerSourceCIDR, `${ip},${proto}:${plan.port},${cidr.replace(/\/(32|128)$/, '')}`]);
      // The node reaching its own LB IP (bound here, so the connection's
      // source is the LB IP itself) when a range holds the node (k/k#119656).
      if (plan.loadBalancerSourceRangesIncludeNode) entries.push([SET.loadBalancerSourceCIDR, `${ip},${proto}:${plan.port},${ip}`]);
    }
  }
  if (plan.nodePort > 0) {
    for (const ip of ctx.nodeIPs) add(ip, plan.nodePort, external);
    if (proto === 'sctp') {
      for (const ip of ctx.nodeIPs) entries.push([local ? SET.nodePortLocalSCTP : SET.nodePortSCTP, `${ip},sctp:${plan.nodePort}`]);
    } else {
      entries.push([nodePortSet(proto, local), String(plan.nodePort)]);
    }
  }
  // A Local policy with endpoints only on other nodes: the packet is
  // dropped, not refused (the client may retry another node), as the
  // iptables mode does; an empty virtual server alone would refuse.
  if (plan.noEndpoints.internal === 'drop') entries.push([SET.noLocalEndpoints, ipPort(plan.clusterIP)]);
  if (plan.noEndpoints.external === 'drop') {
    for (const ip of [...plan.externalIPs, ...plan.loadBalancerIPs]) entries.push([SET.noLocalEndpoints, ipPort(ip)]);
    if (plan.nodePort > 0) for (const ip of ctx.nodeIPs) entries.push([SET.noLocalEndpoints, `${ip},${proto}:${plan.nodePort}`]);
  }
  if (plan.healthCheckNodePort > 0) entries.push([SET.healthCheckNodePort, String(plan.healthCheckNodePort)]);
  // A pod reaching itself through the service must be masqueraded, or it
  // answers itself directly and drops its own reply (hairpin).
  for (const e of plan.allEndpoints) if (e.isLocal) entries.push([SET.loopBack, `${e.ip},${proto}:${e.port},${e.ip}`]);

  return { plan, virtualServers, addresses, entries };
}

function nodePortSet(proto: 'tcp' | 'udp', local: boolean): SetName {
  if (proto === 'tcp') return local ? SET.nodePortLocalTCP : SET.nodePortTCP;
  return local ? SET.nodePortLocalUDP : SET.nodePortUDP;
}
