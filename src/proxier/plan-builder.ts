// Builds the backend-neutral plans of one Service: one ServicePortPlan per
// service port per IP family (kube-proxy runs one proxier per family; we give
// each family its own PlanSet). Everything a backend needs is decided here.

import type { EndpointSlice, Node, Service, ServicePort } from '../k8s/objects.ts';
import { endpointId, selectEndpoints, sortCandidates } from './endpoint-selection.ts';
import type { CandidateEndpoint } from './endpoint-selection.ts';
import { familyOf } from '../base/family.ts';
import { ofFamily } from './ip-family.ts';
import { cidrsContain, nodeIPOf, primaryNodeIP } from './node-ip.ts';
import type { EndpointSet, Family, NoEndpointsAction, PlanEndpoint, ServicePortPlan } from './plan.ts';

export interface PlanContext {
  nodeName: string;
  /** This node's Node object, for its zone; undefined when not (yet) known. */
  node: Node | undefined;
  masqueradeAll: boolean;
  /** config.proxy.clusterCIDR, parsed; split per family here. */
  clusterCIDRs: readonly string[];
}

// Plans are kept until their service changes and never written to: empty lists
// share one frozen array (docs/design/v8-heap.md#shared-empty-lists).
const NONE: never[] = Object.freeze([]) as unknown as never[];
const kept = <T>(list: T[]): T[] => (list.length === 0 ? NONE : list);
const cidrsOfFamily = new Map<Family, { from: readonly string[]; cidrs: string[] }>();
/** The clusterCIDRs of `family`: one array shared by every plan. */
function clusterCIDRsOf(all: readonly string[], family: Family): string[] {
  let known = cidrsOfFamily.get(family);
  if (known?.from !== all) cidrsOfFamily.set(family, (known = { from: all, cidrs: kept(ofFamily(all, family)) }));
  return known.cidrs;
}

/**
 * What of this node's Node object the plans depend on (its zone for topology,
 * its IPs for loadBalancerSourceRanges): when it changes, every plan is rebuilt.
 */
export function nodeFactsKey(node: Node | undefined): string {
  return `${node?.zone ?? ''}|${primaryNodeIP(node, 4) ?? ''}|${primaryNodeIP(node, 6) ?? ''}`;
}

/** Why a service has no plans, or '' when it has. */
export function skipReason(svc: Service): string {
  if (svc.type === 'ExternalName') return 'ExternalName';
  if (svc.headless || svc.clusterIPs.length === 0) return 'headless';
  if (svc.serviceProxyName !== '') return 'service-proxy-name';
  return '';
}

/** kube-proxy's ServicePortName: "ns/name:port", or "ns/name" for an unnamed port. */
export function servicePortName(svc: Service, port: ServicePort): string {
  const base = `${svc.meta.namespace}/${svc.meta.name}`;
  return port.name ? `${base}:${port.name}` : base;
}

/** Every plan of `svc` for `family`; [] when the service has no ClusterIP of that family. */
export function buildPlans(svc: Service, slices: readonly EndpointSlice[], family: Family, ctx: PlanContext): ServicePortPlan[] {
  if (skipReason(svc)) return [];
  const clusterIP = svc.clusterIPs.find((ip) => familyOf(ip) === family);
  if (!clusterIP) return [];

  const externalIPs = kept(ofFamily(svc.externalIPs, family));
  const loadBalancerIPs = kept(ofFamily(svc.loadBalancerIngressIPs, family));
  // A mis-typed range is dropped here rather than breaking a whole restore.
  const loadBalancerSourceRanges = loadBalancerIPs.length > 0 ? kept(ofFamily(svc.loadBalancerSourceRanges, family)) : NONE;
  const loadBalancerSourceRangesIncludeNode = cidrsContain(loadBalancerSourceRanges, nodeIPOf(ctx.node, family));
  const clusterCIDRs = clusterCIDRsOf(ctx.clusterCIDRs, family);
  const nodeZone = ctx.node?.zone ?? '';
  const familySlices = slices
    .filter((s) => s.addressType === (family === 4 ? 'IPv4' : 'IPv6'))
    .sort((a, b) => (a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0));

  const plans: ServicePortPlan[] = [];
  for (const port of svc.ports) {
    const nodePort = svc.type === 'NodePort' || svc.type === 'LoadBalancer' ? port.nodePort : 0;
    const externallyAccessible = isExternallyAccessible({ nodePort, externalIPs, loadBalancerIPs });
    const externalPolicyLocal = externallyAccessible && svc.externalTrafficPolicy === 'Local';
    const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
    const candidates = endpointsForPort(familySlices, port, ctx.nodeName);
    const sel = selectEndpoints(
      { trafficDistribution: svc.trafficDistribution, topologyMode: svc.topologyMode, internalPolicyLocal, externalPolicyLocal, externallyAccessible },
      candidates,
      nodeZone,
    );
    // One PlanEndpoint per endpoint, shared by the lists that hold it.
    const planEndpoints = new Map<CandidateEndpoint, PlanEndpoint>();
    const toPlan = (eps: readonly CandidateEndpoint[]): PlanEndpoint[] =>
      eps.length === 0
        ? NONE
        : eps.map((ep) => {
            let p = planEndpoints.get(ep);
            if (!p) planEndpoints.set(ep, (p = toPlanEndpoint(ep)));
            return p;
          });
    const internalTraffic: EndpointSet = internalPolicyLocal ? 'local' : 'cluster';
    const externalTraffic: EndpointSet = externalPolicyLocal ? 'local' : 'cluster';
    const clusterEndpoints = toPlan(sel.clusterEndpoints);
    const localEndpoints = toPlan(sel.localEndpoints);
    const decided = planDecisions({
      nodePort,
      externalIPs,
      loadBalancerIPs,
      loadBalancerSourceRanges,
      internalTraffic,
      externalTraffic,
      clusterEndpoints,
      localEndpoints,
      hasAnyEndpoints: sel.hasAnyEndpoints,
    });
    // Written out field by field: every plan then has the same shape.
    plans.push({
      servicePortName: servicePortName(svc, port),
      namespace: svc.meta.namespace,
      name: svc.meta.name,
      portName: port.name,
      protocol: port.protocol.toLowerCase() as ServicePortPlan['protocol'],
      family,
      clusterIP,
      port: port.port,
      nodePort,
      externalIPs,
      loadBalancerIPs,
      loadBalancerSourceRanges,
      loadBalancerSourceRangesIncludeNode,
      // The API allocates healthCheckNodePort only for Local LoadBalancers; kube-proxy serves it only then.
      healthCheckNodePort: externalPolicyLocal && (svc.type === 'LoadBalancer' || svc.type === 'NodePort') ? svc.healthCheckNodePort : 0,
      affinityTimeoutSeconds: svc.sessionAffinity === 'ClientIP' ? svc.sessionAffinityTimeoutSeconds || 10800 : 0,
      externallyAccessible: decided.externallyAccessible,
      internalTraffic,
      externalTraffic,
      noEndpoints: decided.noEndpoints,
      externalEntry: decided.externalEntry,
      firewall: decided.firewall,
      allEndpoints: toPlan(sel.allEndpoints),
      clusterEndpoints,
      localEndpoints,
      hasAnyEndpoints: sel.hasAnyEndpoints,
      masqueradeAll: ctx.masqueradeAll,
      clusterCIDRs,
    });
  }
  return plans;
}

/** Reachable from outside the pod network: by a NodePort, an external IP or a load balancer IP. */
export function isExternallyAccessible(p: Pick<ServicePortPlan, 'nodePort' | 'externalIPs' | 'loadBalancerIPs'>): boolean {
  return p.nodePort !== 0 || p.externalIPs.length > 0 || p.loadBalancerIPs.length > 0;
}

/** The plan fields that say what happens to the traffic, made from the other fields by planDecisions. */
export type PlanDecisions = Pick<ServicePortPlan, 'externallyAccessible' | 'noEndpoints' | 'externalEntry' | 'firewall'>;

/** What planDecisions reads of a plan. */
export type DecisionFacts = Pick<
  ServicePortPlan,
  'nodePort' | 'externalIPs' | 'loadBalancerIPs' | 'loadBalancerSourceRanges' | 'internalTraffic' | 'externalTraffic' | 'clusterEndpoints' | 'localEndpoints' | 'hasAnyEndpoints'
>;

/**
 * Every decision a renderer needs beyond the endpoint lists, in kube-proxy's
 * terms (syncProxyRules): traffic whose endpoint set is empty is rejected
 * when the service has no usable endpoint anywhere, else dropped; the
 * external entry and the firewall exist only for a service with usable
 * endpoints. Exported so that hand-built plans (tests, benchmarks) decide
 * the same way.
 */
export function planDecisions(f: DecisionFacts): PlanDecisions {
  const externallyAccessible = isExternallyAccessible(f);
  // Endpoints in either list are usable; hasAnyEndpoints adds those only on other nodes.
  const hasEndpoints = f.hasAnyEndpoints || f.clusterEndpoints.length > 0 || f.localEndpoints.length > 0;
  const whenEmpty = (set: EndpointSet): NoEndpointsAction => {
    if ((set === 'local' ? f.localEndpoints : f.clusterEndpoints).length > 0) return 'none';
    return hasEndpoints ? 'drop' : 'reject';
  };
  return {
    externallyAccessible,
    noEndpoints: noEndpointsOf(whenEmpty(f.internalTraffic), externallyAccessible ? whenEmpty(f.externalTraffic) : 'none'),
    externalEntry: hasEndpoints && externallyAccessible,
    firewall: hasEndpoints && f.loadBalancerIPs.length > 0 && f.loadBalancerSourceRanges.length > 0,
  };
}

// Nine possible values, kept by 10,000 and more plans: one frozen object each.
const ACTIONS: readonly NoEndpointsAction[] = ['reject', 'drop', 'none'];
const NO_ENDPOINTS = new Map(ACTIONS.flatMap((internal) => ACTIONS.map((external) => [`${internal}/${external}`, Object.freeze({ internal, external })] as const)));
const noEndpointsOf = (internal: NoEndpointsAction, external: NoEndpointsAction): ServicePortPlan['noEndpoints'] => NO_ENDPOINTS.get(`${internal}/${external}`)!;

/**
 * The endpoints of one service port from the slices of one family: the slice
 * port with the service port's name and protocol gives the target port
 * (kube-proxy keys endpoints by port name, never by number). An endpoint in
 * several slices counts once; if the copies disagree on locality, the local
 * one wins (endpointslicecache.go does the same).
 */
export function endpointsForPort(slices: readonly EndpointSlice[], port: ServicePort, nodeName: string): CandidateEndpoint[] {
  const byId = new Map<string, CandidateEndpoint>();
  for (const slice of slices) {
    const slicePort = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!slicePort || !slicePort.port) continue;
    for (const ep of slice.endpoints) {
      // All addresses of an endpoint are fungible; the API says consumers use the first.
      const ip = ep.addresses[0];
      if (!ip) continue;
      const isLocal = ep.nodeName !== '' && ep.nodeName === nodeName;
      const id = endpointId({ ip, port: slicePort.port });
      const candidate: CandidateEndpoint = {
        id,
        ip,
        port: slicePort.port,
        isLocal,
        ready: ep.ready,
        serving: ep.serving,
        terminating: ep.terminating,
        nodeName: ep.nodeName,
        zone: ep.zone,
        zoneHints: ep.zoneHints,
      };
      if (!byId.has(id) || isLocal) byId.set(id, candidate);
    }
  }
  return sortCandidates([...byId.values()]);
}

function toPlanEndpoint(ep: CandidateEndpoint): PlanEndpoint {
  return {
    ip: ep.ip,
    port: ep.port,
    isLocal: ep.isLocal,
    ready: ep.ready,
    serving: ep.serving,
    terminating: ep.terminating,
    nodeName: ep.nodeName,
    zone: ep.zone,
  };
}
