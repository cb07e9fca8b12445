// One service port plan → what it adds to netlet's nftables table. The plan
// decides (proxier/plan.ts); this only writes it down:
//
// - Most services are only elements of shared maps: `service-ips` sends a
//   VIP to `pick-tcp-N`, a chain shared by every TCP service with N
//   endpoints, which DNATs to `numgen random mod N` looked up in
//   `endpoints-tcp-N`. No service
//   has a kernel object of its own, so a full load is linear in services
//   (the kernel walks a table's sets and bindings for each set added:
//   kube-proxy's per-service anonymous maps make its load quadratic).
// - Services with ClientIP affinity or a Local external policy need rules
//   that look at the packet's source (affinity sets, pods and the node going
//   to the cluster endpoints): they get chains of their own (svc_, svl_,
//   ext_, sep_), with plain rules and no anonymous sets.
// - Rejects, drops, the source-range firewall, masquerading and hairpin are
//   elements of shared sets read by fixed rules (render-fixed.ts).

import type { NoEndpointsAction, PlanEndpoint, ServicePortPlan } from '../proxier/plan.ts';
import { outermostRanges } from './source-ranges.ts';
import {
  FIREWALL_ALLOW,
  FIREWALL_IPS,
  HAIRPIN,
  MASQ_ALL,
  NO_ENDPOINT_NODEPORTS,
  NO_ENDPOINT_SERVICES,
  REJECT_PACKET,
  SERVICE_IPS,
  SERVICE_NODEPORTS,
  endpointId,
  endpointsMap,
  masqOutsideSet,
  masqPickChain,
  nodePortEndpointsMap,
  nodePortPickChain,
  pickChain,
  pickGroup,
  serviceId,
} from './words.ts';
import type { FamilyWords, PickGroup } from './words.ts';

/** One element of a shared set or map: `value` is '' in a set. */
export interface Element {
  set: string;
  key: string;
  value: string;
}

/** One of a service's own chains and its rules (without the `add rule` prefix). */
export interface OwnChain {
  name: string;
  rules: string[];
}

/** A per-endpoint affinity set: the clients sent to that endpoint lately. */
export interface AffinitySet {
  name: string;
  timeoutSeconds: number;
}

export interface PlanRender {
  plan: ServicePortPlan;
  /** Empty when rendered without them (keptRenderOf): elementCount says how many. */
  elements: Element[];
  elementCount: number;
  chains: OwnChain[];
  sets: AffinitySet[];
  /** The shared pick chains and maps (protocol, endpoint count) the elements point into. */
  picks: PickGroup[];
  /** The CIDR whose masq-outside set holds this plan's ClusterIP, or ''. */
  masqClass: string;
  /** The endpoint addresses whose hairpin element this plan needs. */
  hairpinIps: string[];
}

/** The hairpin element of an endpoint address: its traffic to itself through a service is masqueraded. */
export function hairpinElement(ip: string): Element {
  return { set: HAIRPIN, key: flat(ip, ' . ', ip), value: '' };
}

/**
 * What the backend keeps of a render between syncs: everything but the
 * elements, which it renders again from the plan when it needs them (a
 * sync writes them and lets them go). Kept, the elements were ~1.4 KB per
 * service that every full sync's young-generation GC copied: at 30k
 * services keeping them cost more CPU than rendering twice, and ~40 MB.
 */
export type KeptRender = Omit<PlanRender, 'elements'>;

export function keptRender(r: PlanRender): KeptRender {
  return {
    plan: r.plan,
    elementCount: r.elementCount,
    chains: r.chains.length === 0 ? NONE : r.chains,
    sets: r.sets.length === 0 ? NONE : r.sets,
    picks: sharedPicks(r.picks),
    masqClass: r.masqClass,
    hairpinIps: r.hairpinIps,
  };
}

/*
 * Most kept renders have no chain or set of their own and one of a few pick
 * lists: they share one empty array and one array per pick list, so a full
 * sync's young-generation GC copies (and promotes) two objects per service,
 * not five.
 */
const NONE = Object.freeze([]) as unknown as never[];
const pickLists = new Map<string, PickGroup[]>();
function sharedPicks(picks: PickGroup[]): PickGroup[] {
  const id = picks.join(' ');
  let shared = pickLists.get(id);
  if (!shared) pickLists.set(id, (shared = picks));
  return shared;
}

const verdictFor = (action: NoEndpointsAction): string => (action === 'reject' ? `goto ${REJECT_PACKET}` : 'drop');

/** Whether the plan needs chains of its own: rules on the source address that a shared map cannot hold. */
export function needsOwnChains(plan: ServicePortPlan): boolean {
  return plan.affinityTimeoutSeconds > 0 || plan.externalTraffic === 'local';
}

/** What the rendering needs besides the plan: node facts and config, no policy. */
export interface RenderContext {
  words: FamilyWords;
  /** The masquerade mark as nft prints it, e.g. "0x00004000". */
  masqMark: string;
}

/**
 * One flat string of its parts. A template literal longer than 12
 * characters is a rope in V8 (a tree of cons strings, flattened again when
 * hashed): the renders a full sync keeps held 2.3 KB per service at 10k
 * services that way, and the young-generation GC copied all of it.
 */
const flat = (...parts: (string | number)[]): string => parts.join('');

/** The names of one pick group that its elements hold. */
interface GroupWords {
  group: PickGroup;
  endpoints: string;
  nodePortEndpoints: string;
  gotoPick: string;
  gotoMasqPick: string;
  gotoNodePortPick: string;
}

/**
 * Each pick group's names and each masquerade class's set name, made once:
 * thousands of elements hold the same few strings, not a copy each.
 */
const groupWordsByProto: Record<ServicePortPlan['protocol'], GroupWords[]> = { tcp: [], udp: [], sctp: [] };
function groupWords(proto: ServicePortPlan['protocol'], n: number): GroupWords {
  const byN = groupWordsByProto[proto];
  let words = byN[n];
  if (!words) {
    const group = pickGroup(proto, n);
    byN[n] = words = {
      group,
      endpoints: endpointsMap(group),
      nodePortEndpoints: nodePortEndpointsMap(group),
      gotoPick: `goto ${pickChain(group)}`,
      gotoMasqPick: `goto ${masqPickChain(group)}`,
      gotoNodePortPick: `goto ${nodePortPickChain(group)}`,
    };
  }
  return words;
}
const masqSetNames = new Map<string, string>();
function masqSetName(cidr: string): string {
  let name = masqSetNames.get(cidr);
  if (name === undefined) masqSetNames.set(cidr, (name = masqOutsideSet(cidr)));
  return name;
}

/** Receives each element of a render as it is made (a set's element has value ''). */
export type ElementSink = (set: string, key: string, value: string) => void;

export function renderPlan(plan: ServicePortPlan, ctx: RenderContext): PlanRender {
  const elements: Element[] = [];
  const r = render(plan, ctx, (set, key, value) => elements.push({ set, key, value }), true);
  r.elements = elements;
  r.elementCount = elements.length;
  return r;
}

/**
 * A plan's elements only, each handed to `sink` as it is made: no element
 * object, no array of them, and none of what the backend keeps (chains,
 * hairpin addresses). A full sync's second pass writes every element this
 * way: at 30k services its element objects and arrays were most of the
 * garbage a full sync made, which the young generation's GC had to scan.
 */
export function renderElements(plan: ServicePortPlan, ctx: RenderContext, sink: ElementSink): void {
  render(plan, ctx, sink, false);
}

/**
 * What the backend keeps of a plan, rendered without making its elements'
 * strings (only counted): a full sync that needs no element in its first
 * pass (nothing to compare them with) makes them once, not twice. At 30k
 * services the elements' strings were most of netlet's own CPU in a full
 * sync and of its garbage.
 */
export function keptRenderOf(plan: ServicePortPlan, ctx: RenderContext): KeptRender {
  return keptRender(render(plan, ctx, undefined, true));
}

/**
 * The render of a plan: its elements go to `sink` (undefined: only counted,
 * no string made); `kept`: with what the backend keeps (own chains and
 * sets, hairpin addresses), else those are left empty.
 */
function render(plan: ServicePortPlan, ctx: RenderContext, sink: ElementSink | undefined, kept: boolean): PlanRender {
  const { protocol: proto, port } = plan;
  const withElements = sink !== undefined;
  let counted = 0;
  const chains: OwnChain[] = [];
  const sets: AffinitySet[] = [];
  const picks: PickGroup[] = [];
  const add = sink ? (set: string, key: string, value = '') => sink(set, key, value) : () => counted++;
  // Without elements, their keys and values are never read: no string is made.
  const vip = withElements ? (ip: string) => flat(ip, ' . ', proto, ' . ', port) : () => '';
  const endpointValue = withElements ? endpointText : () => '';
  const clusterVip = vip(plan.clusterIP);
  const nodePortKey = withElements ? flat(proto, ' . ', plan.nodePort) : '';
  const internalReaches = plan.noEndpoints.internal === 'none';
  const externalReaches = plan.noEndpoints.external === 'none';
  const own = needsOwnChains(plan);
  // A service's own chains are named only when it has them.
  const id = own ? serviceId(plan.namespace, plan.name, plan.portName, proto) : '';
  const svc = own ? `svc_${id}` : '';
  const svl = own ? `svl_${id}` : '';
  const ext = own ? `ext_${id}` : '';
  const pick = (n: number): GroupWords => {
    const g = groupWords(proto, n);
    if (!picks.includes(g.group)) picks.push(g.group);
    return g;
  };
  // Endpoint map keys hold no protocol: each protocol has its own maps.
  const endpointKey = withElements ? (ip: string, i: number) => flat(ip, ' . ', port, ' . ', i) : () => '';

  // Masquerading of traffic to the ClusterIP: everything, or from outside the pod network.
  let masqClass = '';
  if (internalReaches) {
    if (plan.masqueradeAll) add(MASQ_ALL, clusterVip);
    else if (plan.clusterCIDRs.length > 0) {
      // One CIDR per family decides, as in the iptables mode and kube-proxy's cluster-CIDR detector.
      masqClass = plan.clusterCIDRs[0];
      add(masqSetName(masqClass), clusterVip);
    }
  }

  // Traffic to the ClusterIP.
  const internalList = plan.internalTraffic === 'local' ? plan.localEndpoints : plan.clusterEndpoints;
  if (!internalReaches) add(NO_ENDPOINT_SERVICES, clusterVip, verdictFor(plan.noEndpoints.internal));
  else if (own) add(SERVICE_IPS, clusterVip, `goto ${plan.internalTraffic === 'local' ? svl : svc}`);
  else {
    const g = pick(internalList.length);
    add(SERVICE_IPS, clusterVip, g.gotoPick);
    internalList.forEach((ep, i) => add(g.endpoints, endpointKey(plan.clusterIP, i), endpointValue(ep)));
  }

  // External traffic: external IPs, load balancer IPs, the NodePort.
  const externalNo = externalReaches ? '' : verdictFor(plan.noEndpoints.external);
  // Without chains of its own, external traffic follows the Cluster policy: masqueraded, to the cluster endpoints.
  const enters = plan.externalEntry && (own || externalReaches);
  const n = plan.clusterEndpoints.length;
  const externalVip = (ip: string) => {
    if (enters) {
      if (own) add(SERVICE_IPS, vip(ip), `goto ${ext}`);
      else {
        const g = pick(n);
        add(SERVICE_IPS, vip(ip), g.gotoMasqPick);
        plan.clusterEndpoints.forEach((ep, i) => add(g.endpoints, endpointKey(ip, i), endpointValue(ep)));
      }
    }
    if (externalNo) add(NO_ENDPOINT_SERVICES, vip(ip), externalNo);
  };
  for (const ip of plan.externalIPs) externalVip(ip);
  for (const ip of plan.loadBalancerIPs) {
    externalVip(ip);
    if (plan.firewall) {
      add(FIREWALL_IPS, vip(ip));
      // The node reaching its own LB IP comes from the LB IP (kube-proxy's allowFromNode).
      const ranges = plan.loadBalancerSourceRangesIncludeNode ? [...plan.loadBalancerSourceRanges, ip] : plan.loadBalancerSourceRanges;
      for (const range of outermostRanges(ranges, plan.family)) add(FIREWALL_ALLOW, withElements ? `${vip(ip)} . ${range}` : '');
    }
  }
  if (plan.nodePort !== 0) {
    if (enters) {
      if (own) add(SERVICE_NODEPORTS, nodePortKey, `goto ${ext}`);
      else {
        const g = pick(n);
        add(SERVICE_NODEPORTS, nodePortKey, g.gotoNodePortPick);
        plan.clusterEndpoints.forEach((ep, i) => add(g.nodePortEndpoints, withElements ? flat(plan.nodePort, ' . ', i) : '', endpointValue(ep)));
      }
    }
    if (externalNo) add(NO_ENDPOINT_NODEPORTS, nodePortKey, externalNo);
  }

  // Hairpin: a pod reaching itself through the service is masqueraded, or
  // its reply would skip the DNAT. Its addresses, not elements: services
  // share endpoints, and the backend writes one element per address
  // (hairpinElement).
  const hairpinIps = kept ? distinctIps(plan.allEndpoints) : NONE;

  if (own && kept) renderOwnChains(plan, ctx, { id, svc, svl, ext, externalReaches }, chains, sets);
  return { plan, elements: NONE, elementCount: counted, chains, sets, picks, masqClass, hairpinIps };
}

const endpointText = (ep: PlanEndpoint): string => flat(ep.ip, ' . ', ep.port);

/** The endpoints' addresses, each once: by scanning for the few endpoints most services have, else through a Set (one array, not three objects, per render). */
function distinctIps(endpoints: readonly PlanEndpoint[]): string[] {
  if (endpoints.length > 16) return [...new Set(endpoints.map((ep) => ep.ip))];
  const out: string[] = [];
  for (const ep of endpoints) if (!out.includes(ep.ip)) out.push(ep.ip);
  return out;
}

/**
 * An endpoint's affinity set. Its timeout is in its name: a set keeps the
 * timeout it was made with, so a new timeout makes a new set (its clients
 * start afresh, as they would after the change anyway).
 */
const affinitySet = (id: string, epId: string, timeoutSeconds: number): string => `aff_${id}_${epId}_${timeoutSeconds}s`;

function renderOwnChains(
  plan: ServicePortPlan,
  ctx: RenderContext,
  names: { id: string; svc: string; svl: string; ext: string; externalReaches: boolean },
  chains: OwnChain[],
  sets: AffinitySet[],
): void {
  const w = ctx.words;
  const { id, svc, svl, ext } = names;
  const usesCluster = plan.clusterEndpoints.length > 0;
  const mark = `meta mark set meta mark or ${ctx.masqMark}`;
  if (plan.externalEntry) {
    const rules: string[] = [];
    if (plan.externalTraffic === 'cluster') rules.push(mark);
    else {
      // Pods reaching an external address are treated as if they had gone out and come back: Cluster policy.
      if (usesCluster) for (const cidr of plan.clusterCIDRs) rules.push(`${w.ip} saddr ${cidr} goto ${svc}`);
      // The node itself (its source often the external IP itself): masqueraded, to the cluster endpoints.
      rules.push(`fib saddr type local ${mark}`);
      if (usesCluster) rules.push(`fib saddr type local goto ${svc}`);
    }
    if (names.externalReaches) rules.push(`goto ${plan.externalTraffic === 'local' ? svl : svc}`);
    chains.push({ name: ext, rules });
  }

  const endpointChains = new Map<string, string>();
  const toEndpoint = (ep: PlanEndpoint): string => {
    const epId = endpointId(ep.ip, ep.port);
    const dnat = `meta l4proto ${plan.protocol} dnat ${w.ip} to ${w.family === 6 ? `[${ep.ip}]` : ep.ip}:${ep.port}`;
    if (plan.affinityTimeoutSeconds === 0) return dnat;
    const chain = `sep_${id}_${epId}`;
    if (!endpointChains.has(chain)) {
      const set = affinitySet(id, epId, plan.affinityTimeoutSeconds);
      endpointChains.set(chain, set);
      sets.push({ name: set, timeoutSeconds: plan.affinityTimeoutSeconds });
      // Each new connection renews the client's entry, as kube-proxy's `recent --set` does.
      chains.push({ name: chain, rules: [`update @${set} { ${w.ip} saddr } ${dnat}`] });
    }
    return `goto ${chain}`;
  };
  const listChain = (name: string, endpoints: PlanEndpoint[]) => {
    const rules: string[] = [];
    const targets = endpoints.map(toEndpoint);
    if (plan.affinityTimeoutSeconds > 0) {
      endpoints.forEach((ep, i) => rules.push(`${w.ip} saddr @${affinitySet(id, endpointId(ep.ip, ep.port), plan.affinityTimeoutSeconds)} ${targets[i]}`));
    }
    // Each rule takes 1/(endpoints left) of what reaches it: an even spread, with no anonymous map.
    const count = endpoints.length;
    targets.forEach((target, i) => rules.push(i < count - 1 ? `numgen random mod ${count - i} == 0 ${target}` : target));
    chains.push({ name, rules });
  };
  if (usesCluster) listChain(svc, plan.clusterEndpoints);
  if (plan.localEndpoints.length > 0) listChain(svl, plan.localEndpoints);
}
