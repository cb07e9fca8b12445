// The fixed part of netlet's table: its hooks, the shared maps and sets every
// service's elements go into, the rules that read them, and the shared
// chains that pick one of N endpoints. Written whole by a full sync; a
// partial sync rewrites it only when its text changed (a new masquerade
// class, other nodePortAddresses) and adds the pick chains of a new N.
//
// Hook priorities are numbers: nft 1.0.6 refuses `priority dstnat` on the
// output hook. The firewall runs before DNAT (-110) to see the LB IP; the
// no-endpoint rejects and drops after it (-90): a packet still addressed to a
// service there was not DNATed, while pods sent to cluster endpoints by a
// Local external policy were.

import type { OwnChain } from './render-plan.ts';
import type { SetRef } from './transaction.ts';
import {
  FIREWALL_ALLOW,
  FIREWALL_IPS,
  HAIRPIN,
  MASQ_ALL,
  NODEPORTS,
  NO_ENDPOINT_NODEPORTS,
  NO_ENDPOINT_SERVICES,
  REJECT_PACKET,
  SERVICES,
  SERVICE_IPS,
  SERVICE_NODEPORTS,
  SYNC_DIGEST,
  endpointsMap,
  masqOutsideSet,
  masqPickChain,
  nodePortEndpointsMap,
  nodePortPickChain,
  pickChain,
  tableRef,
} from './words.ts';
import type { FamilyWords, PickGroup } from './words.ts';

export interface FixedContext {
  words: FamilyWords;
  /** The masquerade mark, e.g. "0x00004000". */
  masqMark: string;
  /** Node addresses that accept NodePorts; empty means every local address but loopback. */
  nodePortAddresses: readonly string[];
  /** nf_conntrack_tcp_be_liberal is set: INVALID packets need not be dropped. */
  tcpBeLiberal: boolean;
  /** The CIDRs of the masquerade classes in use (render-plan.ts masqClass), sorted. */
  masqClasses: readonly string[];
}

interface BaseChain {
  name: string;
  type: 'nat' | 'filter';
  hook: 'prerouting' | 'output' | 'postrouting' | 'forward';
  priority: number;
}

export const BASE_CHAINS: readonly BaseChain[] = [
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
  { name: 'firewall-prerouting', type: 'filter', hook: 'prerouting', priority: -110 },
  { name: 'firewall-output', type: 'filter', hook: 'output', priority: -110 },
  { name: 'no-endpoints-prerouting', type: 'filter', hook: 'prerouting', priority: -90 },
  { name: 'no-endpoints-output', type: 'filter', hook: 'output', priority: -90 },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: 0 },
];

const REGULAR_CHAINS = [SERVICES, NODEPORTS, REJECT_PACKET] as const;

/** Every fixed chain's name (base and regular), without the pick chains. */
export const FIXED_CHAINS: readonly string[] = [...BASE_CHAINS.map((c) => c.name), ...REGULAR_CHAINS];

/** The shared maps and sets of the fixed part, with their declarations. */
function sharedSets(w: FamilyWords): [name: string, body: string][] {
  const vip = `${w.addrType} . inet_proto . inet_service`;
  return [
    [SERVICE_IPS, `map ${SERVICE_IPS} { type ${vip} : verdict; }`],
    [SERVICE_NODEPORTS, `map ${SERVICE_NODEPORTS} { type inet_proto . inet_service : verdict; }`],
    [NO_ENDPOINT_SERVICES, `map ${NO_ENDPOINT_SERVICES} { type ${vip} : verdict; }`],
    [NO_ENDPOINT_NODEPORTS, `map ${NO_ENDPOINT_NODEPORTS} { type inet_proto . inet_service : verdict; }`],
    [MASQ_ALL, `set ${MASQ_ALL} { type ${vip}; }`],
    [HAIRPIN, `set ${HAIRPIN} { type ${w.addrType} . ${w.addrType}; }`],
    [FIREWALL_IPS, `set ${FIREWALL_IPS} { type ${vip}; }`],
    [FIREWALL_ALLOW, `set ${FIREWALL_ALLOW} { type ${vip} . ${w.addrType}; flags interval; }`],
    [SYNC_DIGEST, `set ${SYNC_DIGEST} { type ipv6_addr; }`],
  ];
}

/** Names of the fixed shared sets and maps, and of one masquerade class's set. */
export function sharedSetNames(ctx: FixedContext): SetRef[] {
  return [
    ...sharedSets(ctx.words).map(([name, body]) => ({ kind: body.startsWith('map') ? ('map' as const) : ('set' as const), name })),
    ...ctx.masqClasses.map((cidr) => ({ kind: 'set' as const, name: masqOutsideSet(cidr) })),
  ];
}

/** `add` statements for the table, its fixed chains and shared sets (each a no-op when it exists). */
export function fixedDeclarations(ctx: FixedContext): string[] {
  const w = ctx.words;
  const t = tableRef(w);
  return [
    `add table ${t}`,
    ...BASE_CHAINS.map((c) => `add chain ${t} ${c.name} { type ${c.type} hook ${c.hook} priority ${c.priority}; policy accept; }`),
    ...REGULAR_CHAINS.map((c) => `add chain ${t} ${c}`),
    ...sharedSets(w).map(([, body]) => `add ${body.replace(/^(map|set) /, `$1 ${t} `)}`),
    ...ctx.masqClasses.map((cidr) => masqClassDeclaration(cidr, w)),
  ];
}

/** The `add set` statement of one masquerade class's set. */
export function masqClassDeclaration(cidr: string, w: FamilyWords): string {
  return `add set ${tableRef(w)} ${masqOutsideSet(cidr)} { type ${w.addrType} . inet_proto . inet_service; }`;
}

/** The rules of every fixed chain. */
export function fixedChains(ctx: FixedContext): OwnChain[] {
  const { words: w, masqMark: m } = ctx;
  const vip = `${w.ip} daddr . meta l4proto . th dport`;
  // Where NodePorts are offered (never on loopback, as in the iptables mode).
  const nodePortDst =
    ctx.nodePortAddresses.length === 0 ? `fib daddr type local ${w.ip} daddr != ${w.loopback}` : `${w.ip} daddr { ${ctx.nodePortAddresses.join(', ')} }`;
  const markMasq = `meta mark set meta mark or ${m}`;
  const noEndpoints = [`ct state new ${vip} vmap @${NO_ENDPOINT_SERVICES}`, `ct state new ${nodePortDst} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`];
  const firewall = [`ct state new ${vip} @${FIREWALL_IPS} ${vip} . ${w.ip} saddr != @${FIREWALL_ALLOW} drop`];
  return [
    { name: 'nat-prerouting', rules: [`jump ${SERVICES}`] },
    { name: 'nat-output', rules: [`jump ${SERVICES}`] },
    {
      name: 'nat-postrouting',
      rules: [
        // The mark is cleared so a packet that goes through the stack again is not masqueraded twice.
        `meta mark and ${m} != 0 meta mark set meta mark xor ${m} masquerade fully-random`,
        // Hairpin: a pod that reached itself through a service.
        `ct status dnat ${w.ip} saddr . ${w.ip} daddr @${HAIRPIN} masquerade fully-random`,
      ],
    },
    { name: 'firewall-prerouting', rules: firewall },
    { name: 'firewall-output', rules: firewall },
    { name: 'no-endpoints-prerouting', rules: noEndpoints },
    { name: 'no-endpoints-output', rules: noEndpoints },
    // Without be_liberal an out-of-window packet is INVALID, skips the DNAT reversal and resets the connection (kubernetes#74839).
    { name: 'filter-forward', rules: ctx.tcpBeLiberal ? [] : ['ct state invalid drop'] },
    {
      name: SERVICES,
      rules: [
        `${vip} @${MASQ_ALL} ${markMasq}`,
        ...ctx.masqClasses.map((cidr) => `${w.ip} saddr != ${cidr} ${vip} @${masqOutsideSet(cidr)} ${markMasq}`),
        `${vip} vmap @${SERVICE_IPS}`,
        `${nodePortDst} jump ${NODEPORTS}`,
      ],
    },
    { name: NODEPORTS, rules: [`meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`] },
    { name: REJECT_PACKET, rules: ['reject'] },
  ];
}

/** The protocol and endpoint count of a pick group. */
function partsOf(g: PickGroup): { proto: string; n: number } {
  const dash = g.indexOf('-');
  return { proto: g.slice(0, dash), n: Number(g.slice(dash + 1)) };
}

/** Declarations of the maps and chains that pick one of N endpoints of one protocol. */
export function pickDeclarations(g: PickGroup, w: FamilyWords): string[] {
  const t = tableRef(w);
  const { proto } = partsOf(g);
  // typeof, not type: the numgen index is an integer nft will not name in a concatenated `type`.
  const value = `${w.ip} daddr . ${proto} dport`;
  return [
    `add map ${t} ${endpointsMap(g)} { typeof ${w.ip} daddr . ${proto} dport . numgen random mod 1 : ${value}; }`,
    `add map ${t} ${nodePortEndpointsMap(g)} { typeof ${proto} dport . numgen random mod 1 : ${value}; }`,
    `add chain ${t} ${pickChain(g)}`,
    `add chain ${t} ${masqPickChain(g)}`,
    `add chain ${t} ${nodePortPickChain(g)}`,
  ];
}

/** The maps of one pick group, each with its declaration. */
export function pickSetNames(g: PickGroup, w?: FamilyWords): SetRef[] {
  const [endpoints, nodePorts] = w ? pickDeclarations(g, w) : [];
  return [
    { kind: 'map', name: endpointsMap(g), declaration: endpoints },
    { kind: 'map', name: nodePortEndpointsMap(g), declaration: nodePorts },
  ];
}

/**
 * The pick chains of one group: the ClusterIP's (no masquerade here; the
 * services chain marked what must be), an external address's (Cluster policy:
 * masqueraded) and a NodePort's (keyed by port alone: any node address).
 */
export function pickChains(g: PickGroup, ctx: FixedContext): OwnChain[] {
  const w = ctx.words;
  const { proto, n } = partsOf(g);
  const markMasq = `meta mark set meta mark or ${ctx.masqMark}`;
  // The protocol match also lets the DNAT carry a port.
  const index = `numgen random mod ${n}`;
  const dnatVip = `meta l4proto ${proto} dnat ${w.ip} to ${w.ip} daddr . ${proto} dport . ${index} map @${endpointsMap(g)}`;
  return [
    { name: pickChain(g), rules: [dnatVip] },
    { name: masqPickChain(g), rules: [markMasq, dnatVip] },
    { name: nodePortPickChain(g), rules: [markMasq, `meta l4proto ${proto} dnat ${w.ip} to ${proto} dport . ${index} map @${nodePortEndpointsMap(g)}`] },
  ];
}
