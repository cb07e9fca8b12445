// One service port plan → its iptables rules, in kube-proxy's layout
// (pkg/proxy/iptables/proxier.go syncProxyRules, read for behaviour). Split in
// two: the "top" rules that live in the shared chains (written on every sync,
// since iptables-restore must get every rule of a chain it touches), and the
// service's own chains (written only when the service changed, KEP-3453).

import { sameList } from '../base/same-list.ts';
import type { NoEndpointsAction, PlanEndpoint, ServicePortPlan } from '../proxier/plan.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  endpointString,
  sepChain,
  servicePortChains,
} from './chain-names.ts';
import type { RenderContext } from './render-context.ts';
import { assertRuleSafe } from './rule-text.ts';

/**
 * A plan's chain names, computed once per render for both halves. The plan
 * decides (plan.ts); this only names: which chain each endpoint set and each
 * kind of traffic goes to.
 */
export interface ServiceShape {
  plan: ServicePortPlan;
  spn: string;
  proto: string;
  svc: string;
  svl: string;
  ext: string;
  fw: string;
  /** KUBE-SVC holds the cluster endpoints, KUBE-SVL the local ones; a chain exists only for a list with endpoints. */
  usesClusterChain: boolean;
  usesLocalChain: boolean;
  /** Internal (external) traffic has endpoints in its set: it jumps to internalChain (externalPolicyChain). */
  internalReachesEndpoints: boolean;
  externalReachesEndpoints: boolean;
  internalChain: string;
  externalPolicyChain: string;
}

/** Throws UnsafeRuleTextError (rule-text.ts) for a plan whose values cannot be written into rules. */
export function shapeOf(plan: ServicePortPlan): ServiceShape {
  assertRuleSafe(plan);
  const spn = plan.servicePortName;
  const proto = plan.protocol;
  const { svc, svl, ext, fw } = servicePortChains(spn, proto);
  return {
    plan,
    spn,
    proto,
    svc,
    svl,
    ext,
    fw,
    usesClusterChain: plan.clusterEndpoints.length > 0,
    usesLocalChain: plan.localEndpoints.length > 0,
    internalReachesEndpoints: plan.noEndpoints.internal === 'none',
    externalReachesEndpoints: plan.noEndpoints.external === 'none',
    internalChain: plan.internalTraffic === 'local' ? svl : svc,
    externalPolicyChain: plan.externalTraffic === 'local' ? svl : svc,
  };
}

/** The filter rule's target and comment for traffic the plan rejects or drops. */
function noEndpointsRule(spn: string, action: NoEndpointsAction): { target: string; comment: string } {
  return action === 'reject' ? { target: 'REJECT', comment: `"${spn} has no endpoints"` } : { target: 'DROP', comment: `"${spn} has no local endpoints"` };
}

/** Rules this plan adds to the shared chains. */
export interface TopRules {
  natServices: string[];
  natNodePorts: string[];
  filterServices: string[];
  filterExternal: string[];
  filterNodePorts: string[];
  filterFirewall: string[];
}

/**
 * A template literal made as one flat string, not a rope: these lines are
 * kept between syncs (docs/design/v8-heap.md#flat-strings-not-ropes).
 */
function line(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  const parts: (string | number)[] = [strings[0]];
  for (let i = 0; i < values.length; i++) parts.push(values[i], strings[i + 1]);
  return parts.join('');
}

export function renderTop(s: ServiceShape): TopRules {
  const { plan, spn, proto } = s;
  const out: TopRules = { natServices: [], natNodePorts: [], filterServices: [], filterExternal: [], filterNodePorts: [], filterFirewall: [] };
  const match = (ip: string, port: number) => `-m ${proto} -p ${proto} -d ${ip} --dport ${port}`;

  if (s.internalReachesEndpoints) {
    out.natServices.push(line`-A ${KUBE_SERVICES} -m comment --comment "${spn} cluster IP" ${match(plan.clusterIP, plan.port)} -j ${s.internalChain}`);
  } else {
    const no = noEndpointsRule(spn, plan.noEndpoints.internal);
    out.filterServices.push(line`-A ${KUBE_SERVICES} -m comment --comment ${no.comment} ${match(plan.clusterIP, plan.port)} -j ${no.target}`);
  }

  // Only made when some external traffic meets it.
  const externalNo = s.externalReachesEndpoints ? undefined : noEndpointsRule(spn, plan.noEndpoints.external);
  for (const ip of plan.externalIPs) {
    if (plan.externalEntry) {
      out.natServices.push(line`-A ${KUBE_SERVICES} -m comment --comment "${spn} external IP" ${match(ip, plan.port)} -j ${s.ext}`);
    }
    if (externalNo) {
      out.filterExternal.push(line`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalNo.comment} ${match(ip, plan.port)} -j ${externalNo.target}`);
    }
  }

  for (const ip of plan.loadBalancerIPs) {
    if (plan.externalEntry) {
      const target = plan.firewall ? s.fw : s.ext;
      out.natServices.push(line`-A ${KUBE_SERVICES} -m comment --comment "${spn} loadbalancer IP" ${match(ip, plan.port)} -j ${target}`);
    }
    if (plan.firewall) {
      out.filterFirewall.push(line`-A ${KUBE_PROXY_FIREWALL} -m comment --comment "${spn} traffic not accepted by ${s.fw}" ${match(ip, plan.port)} -j DROP`);
    }
  }
  if (externalNo) {
    for (const ip of plan.loadBalancerIPs) {
      out.filterExternal.push(line`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalNo.comment} ${match(ip, plan.port)} -j ${externalNo.target}`);
    }
  }

  if (plan.nodePort !== 0) {
    if (plan.externalEntry) {
      // NodePorts are not subject to loadBalancerSourceRanges (kube-proxy keeps it so).
      out.natNodePorts.push(line`-A ${KUBE_NODEPORTS} -m comment --comment ${spn} -m ${proto} -p ${proto} --dport ${plan.nodePort} -j ${s.ext}`);
    }
    if (externalNo) {
      out.filterExternal.push(
        line`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalNo.comment} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${plan.nodePort} -j ${externalNo.target}`,
      );
    }
  }

  if (plan.healthCheckNodePort !== 0) {
    out.filterNodePorts.push(
      line`-A ${KUBE_NODEPORTS} -m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${plan.healthCheckNodePort} -j ACCEPT`,
    );
  }
  return kept(out);
}

/** Every list of TopRules: the shared chains a plan adds rules to. */
export const TOP_KEYS = ['natServices', 'natNodePorts', 'filterServices', 'filterExternal', 'filterNodePorts', 'filterFirewall'] as const;

/** Whether two renders put the same rules in the shared chains. */
export function sameTop(a: TopRules, b: TopRules): boolean {
  for (const k of TOP_KEYS) if (!sameList(a[k], b[k])) return false;
  return true;
}

/**
 * Renders are kept between syncs and never written to: their lists are
 * exact-size copies, empty ones one shared list (docs/design/iptables-sync.md#kept-renders).
 */
const NONE: string[] = Object.freeze([]) as unknown as string[];
const exact = (list: string[]): string[] => (list.length === 0 ? NONE : list.slice());

function kept(top: TopRules): TopRules {
  return {
    natServices: exact(top.natServices),
    natNodePorts: exact(top.natNodePorts),
    filterServices: exact(top.filterServices),
    filterExternal: exact(top.filterExternal),
    filterNodePorts: exact(top.filterNodePorts),
    filterFirewall: exact(top.filterFirewall),
  };
}

/** The service's own nat chains and their rules. */
export interface ChainRules {
  chains: string[];
  rules: string[];
}

/**
 * `earlier`: the chains this same plan object rendered to before (a full
 * sync renders every plan again): its KUBE-SEP names, in the order its
 * endpoints first appear, are taken instead of hashed again
 * (docs/design/iptables-sync.md#chain-names). The same plan has the same
 * endpoints in the same order, so the names line up.
 */
export function renderChains(s: ServiceShape, ctx: RenderContext, earlier?: readonly string[]): ChainRules {
  const { plan, spn, proto } = s;
  const earlierSeps = earlier?.filter((c) => c.startsWith('KUBE-SEP-'));
  const chains: string[] = [];
  const rules: string[] = [];
  const comment = (text: string) => (ctx.largeCluster ? '' : ` -m comment --comment ${text}`);
  const notLocal = plan.clusterCIDRs.length > 0 ? ` ! -s ${plan.clusterCIDRs[0]}` : '';

  // Internal traffic: masquerade all, or what comes from outside the pod network.
  if (s.internalReachesEndpoints) {
    const args = `-m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${plan.clusterIP} --dport ${plan.port}`;
    if (plan.masqueradeAll) {
      rules.push(`-A ${s.internalChain} ${args} -j ${KUBE_MARK_MASQ}`);
    } else if (notLocal) {
      // A single CIDR only: `! -s a,b` is not valid iptables. kube-proxy's
      // cluster-CIDR local detector also takes one CIDR per family.
      rules.push(`-A ${s.internalChain} ${args}${notLocal} -j ${KUBE_MARK_MASQ}`);
    }
  }

  if (plan.externalEntry) {
    chains.push(s.ext);
    if (plan.externalTraffic === 'cluster') {
      rules.push(`-A ${s.ext} -m comment --comment "masquerade traffic for ${spn} external destinations" -j ${KUBE_MARK_MASQ}`);
    } else {
      // Pods reaching an external address of the service are treated as if
      // they had gone out to the load balancer and come back: Cluster policy.
      if (s.usesClusterChain) {
        for (const cidr of plan.clusterCIDRs) {
          rules.push(`-A ${s.ext} -m comment --comment "pod traffic for ${spn} external destinations" -s ${cidr} -j ${s.svc}`);
        }
      }
      // The node itself: its source is a local address (often the external IP itself), so masquerade.
      rules.push(`-A ${s.ext} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`);
      if (s.usesClusterChain) {
        rules.push(`-A ${s.ext} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${s.svc}`);
      }
    }
    if (s.externalReachesEndpoints) rules.push(`-A ${s.ext} -j ${s.externalPolicyChain}`);
  }

  if (plan.firewall) {
    chains.push(s.fw);
    for (const cidr of plan.loadBalancerSourceRanges) {
      rules.push(`-A ${s.fw} -m comment --comment "${spn} loadbalancer IP" -s ${cidr} -j ${s.ext}`);
    }
    // The node reaching its own LB IP: with the VIP a local address, the
    // connection loops back with the VIP as its source, which no range
    // names. Let it through when the ranges admit the node (kube-proxy's allowFromNode).
    if (plan.loadBalancerSourceRangesIncludeNode) {
      for (const ip of plan.loadBalancerIPs) {
        rules.push(`-A ${s.fw} -m comment --comment "${spn} loadbalancer IP" -s ${ip} -j ${s.ext}`);
      }
    }
    // What falls off the end was not DNATed, so KUBE-PROXY-FIREWALL (filter) drops it.
    rules.push(`-A ${s.fw} -m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`);
  }

  const endpointChains = new Map<string, { ep: PlanEndpoint; id: string; chain: string }>();
  const sepOf = (ep: PlanEndpoint) => {
    const id = endpointString(ep.ip, ep.port);
    let e = endpointChains.get(id);
    if (!e) {
      // The n-th endpoint met has the earlier render's n-th KUBE-SEP name.
      e = { ep, id, chain: earlierSeps?.[endpointChains.size] ?? sepChain(spn, proto, id) };
      endpointChains.set(id, e);
    }
    return e;
  };
  // Built only when comments are on (docs/design/iptables-sync.md#rule-text).
  const toEndpoint = (id: string) => (ctx.largeCluster ? '' : ` -m comment --comment "${spn} -> ${id}"`);

  const writeServiceToEndpoints = (chain: string, endpoints: PlanEndpoint[]) => {
    chains.push(chain);
    if (plan.affinityTimeoutSeconds > 0) {
      for (const ep of endpoints) {
        const sep = sepOf(ep);
        rules.push(`-A ${chain}${toEndpoint(sep.id)} -m recent --name ${sep.chain} --rcheck --seconds ${plan.affinityTimeoutSeconds} --reap -j ${sep.chain}`);
      }
    }
    const n = endpoints.length;
    for (let i = 0; i < n; i++) {
      const sep = sepOf(endpoints[i]);
      const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
      rules.push(`-A ${chain}${toEndpoint(sep.id)}${stat} -j ${sep.chain}`);
    }
  };
  if (s.usesClusterChain) writeServiceToEndpoints(s.svc, plan.clusterEndpoints);
  if (s.usesLocalChain) writeServiceToEndpoints(s.svl, plan.localEndpoints);

  const ownComment = comment(spn);
  for (const { ep, id, chain } of endpointChains.values()) {
    chains.push(chain);
    const base = `-A ${chain}${ownComment}`;
    // Hairpin: a pod reaching itself through the service must be masqueraded or the reply skips the DNAT.
    rules.push(`${base} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
    const affinity = plan.affinityTimeoutSeconds > 0 ? ` -m recent --name ${chain} --set` : '';
    rules.push(`${base}${affinity} -m ${proto} -p ${proto} -j DNAT --to-destination ${id}`);
  }
  return { chains: exact(chains), rules };
}

const probabilities: string[] = [];

/** 1/n with 10 decimals, as kube-proxy prints it (cached: formatting floats is slow). */
export function probability(n: number): string {
  let p = probabilities[n];
  if (p === undefined) {
    p = (1 / n).toFixed(10);
    probabilities[n] = p;
  }
  return p;
}
