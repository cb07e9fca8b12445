// The few iptables rules the IPVS mode still needs, all matching ipsets, so
// their number never grows with services: masquerading (KUBE-SERVICES,
// KUBE-MARK-MASQ, KUBE-POSTROUTING with the hairpin set), NodePorts and
// load balancers (KUBE-NODE-PORT, KUBE-LOAD-BALANCER), the source-range
// firewall and the filters. Chain names come from iptables/chain-names.ts and
// the text goes through iptables/restore.ts like the iptables mode's.
//
// Where netlet differs from kube-proxy, on purpose:
// - filter KUBE-NODE-PORT accepts packets to NodePorts and health-check
//   ports, and KUBE-IPVS-FILTER accepts packets to service ip:ports, so
//   services work whatever the INPUT policy is (k/k#98465: with policy DROP,
//   kube-proxy's NodePorts only worked when masqueraded);
// - KUBE-PROXY-FIREWALL drops new connections to an address whose Local
//   policy has no endpoint on this node (the iptables mode's "has no local
//   endpoints"), where kube-proxy's IPVS mode refuses them;
// - KUBE-IPVS-FILTER rejects new connections to any other port of an
//   address on kube-ipvs0, so host services listening on 0.0.0.0 are not
//   reachable through every ClusterIP (k/k#72236), in OUTPUT too.

import {
  KUBE_FORWARD,
  KUBE_IPVS_FILTER,
  KUBE_IPVS_OUT_FILTER,
  KUBE_LOAD_BALANCER,
  KUBE_MARK_MASQ,
  KUBE_NODE_PORT,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  KUBE_SOURCE_RANGES_FIREWALL,
} from '../iptables/chain-names.ts';
import { filterForwardRules, natFixedRules } from '../iptables/render-fixed.ts';
import type { JumpRule } from '../iptables/render-fixed.ts';
import type { RenderContext } from '../iptables/render-context.ts';
import { assertRuleAddresses } from '../iptables/rule-text.ts';
import type { Family } from '../base/family.ts';
import { SET, setName } from './ipset-names.ts';
import type { SetName } from './ipset-names.ts';

export interface IpvsRulesContext {
  family: Family;
  /** "0x4000". */
  masqMark: string;
  masqueradeAll: boolean;
  clusterCIDRs: readonly string[];
  /** Addresses that take NodePorts; empty: every local one. */
  nodePortAddresses: readonly string[];
  tcpBeLiberal: boolean;
}

const NEW = '-m conntrack --ctstate NEW';

/** The iptables mode's context, for its fixed rules this mode shares (masquerading, forwarding). */
function iptablesContext(ctx: IpvsRulesContext): RenderContext {
  return { family: ctx.family, masqMark: ctx.masqMark, nodePortAddresses: [...ctx.nodePortAddresses], tcpBeLiberal: ctx.tcpBeLiberal, largeCluster: false };
}

/** The jumps from the built-in chains, in the order they end up in (iptables/render-fixed.ts inserts the missing ones). */
export const IPVS_JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', from: 'INPUT', to: KUBE_PROXY_FIREWALL, comment: 'kube-proxy firewall rules', extra: NEW },
  { table: 'filter', from: 'INPUT', to: KUBE_NODE_PORT, comment: 'kubernetes health check rules', extra: '' },
  { table: 'filter', from: 'INPUT', to: KUBE_IPVS_FILTER, comment: 'kubernetes ipvs access filter', extra: '' },
  { table: 'filter', from: 'FORWARD', to: KUBE_PROXY_FIREWALL, comment: 'kube-proxy firewall rules', extra: NEW },
  { table: 'filter', from: 'FORWARD', to: KUBE_FORWARD, comment: 'kubernetes forwarding rules', extra: '' },
  { table: 'filter', from: 'OUTPUT', to: KUBE_IPVS_OUT_FILTER, comment: 'kubernetes ipvs access filter', extra: '' },
  { table: 'nat', from: 'PREROUTING', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: '' },
  { table: 'nat', from: 'OUTPUT', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: '' },
  { table: 'nat', from: 'POSTROUTING', to: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', extra: '' },
];

const NAT_CHAINS = [KUBE_SERVICES, KUBE_POSTROUTING, KUBE_MARK_MASQ, KUBE_NODE_PORT, KUBE_LOAD_BALANCER];
const FILTER_CHAINS = [KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL, KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER];

/** `iptables-restore --noflush` input writing both tables' chains whole. */
export function ipvsRulesText(ctx: IpvsRulesContext): string {
  return [...natTable(ctx), ...filterTable(ctx), ''].join('\n');
}

function natTable(ctx: IpvsRulesContext): string[] {
  assertRuleAddresses('clusterCIDR', ctx.clusterCIDRs);
  assertRuleAddresses('nodePortAddresses', ctx.nodePortAddresses);
  const set = (n: SetName): string => setName(n, ctx.family);
  const match = (n: SetName, dirs: string): string => `-m set --match-set ${set(n)} ${dirs}`;
  const rules: string[] = [
    `-A ${KUBE_POSTROUTING} -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" ${match(SET.loopBack, 'dst,dst,src')} -j MASQUERADE`,
    ...natFixedRules(iptablesContext(ctx)),
  ];
  const toCluster = match(SET.clusterIP, 'dst,dst');
  if (ctx.masqueradeAll || ctx.clusterCIDRs.length === 0) {
    // Without a clusterCIDR nothing tells pods from others: masquerade every packet to a ClusterIP, as kube-proxy does.
    rules.push(`-A ${KUBE_SERVICES} -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" ${toCluster} -j ${KUBE_MARK_MASQ}`);
  } else {
    for (const cidr of ctx.clusterCIDRs) {
      rules.push(`-A ${KUBE_SERVICES} ! -s ${cidr} -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" ${toCluster} -j ${KUBE_MARK_MASQ}`);
    }
  }
  rules.push(
    `-A ${KUBE_SERVICES} -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" ${match(SET.externalIP, 'dst,dst')} -j ${KUBE_MARK_MASQ}`,
    `-A ${KUBE_SERVICES} -m comment --comment "Kubernetes service lb portal" ${match(SET.loadBalancer, 'dst,dst')} -j ${KUBE_LOAD_BALANCER}`,
  );
  if (ctx.nodePortAddresses.length === 0) {
    rules.push(`-A ${KUBE_SERVICES} -m addrtype --dst-type LOCAL -j ${KUBE_NODE_PORT}`);
  } else {
    for (const ip of ctx.nodePortAddresses) rules.push(`-A ${KUBE_SERVICES} -d ${ip} -j ${KUBE_NODE_PORT}`);
  }
  rules.push(
    `-A ${KUBE_SERVICES} ${toCluster} -j ACCEPT`,
    `-A ${KUBE_SERVICES} ${match(SET.loadBalancer, 'dst,dst')} -j ACCEPT`,
    `-A ${KUBE_LOAD_BALANCER} ${match(SET.loadBalancerLocal, 'dst,dst')} -j RETURN`,
    `-A ${KUBE_LOAD_BALANCER} -j ${KUBE_MARK_MASQ}`,
  );
  for (const [proto, local, all] of [
    ['tcp', SET.nodePortLocalTCP, SET.nodePortTCP],
    ['udp', SET.nodePortLocalUDP, SET.nodePortUDP],
  ] as const) {
    rules.push(`-A ${KUBE_NODE_PORT} -p ${proto} ${match(local, 'dst')} -j RETURN`);
    rules.push(`-A ${KUBE_NODE_PORT} -p ${proto} ${match(all, 'dst')} -j ${KUBE_MARK_MASQ}`);
  }
  rules.push(`-A ${KUBE_NODE_PORT} -p sctp ${match(SET.nodePortLocalSCTP, 'dst,dst')} -j RETURN`);
  rules.push(`-A ${KUBE_NODE_PORT} -p sctp ${match(SET.nodePortSCTP, 'dst,dst')} -j ${KUBE_MARK_MASQ}`);
  return ['*nat', ...NAT_CHAINS.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT'];
}

function filterTable(ctx: IpvsRulesContext): string[] {
  const set = (n: SetName): string => setName(n, ctx.family);
  const match = (n: SetName, dirs: string): string => `-m set --match-set ${set(n)} ${dirs}`;
  const rules: string[] = [...filterForwardRules(iptablesContext(ctx))];
  rules.push(`-A ${KUBE_NODE_PORT} -m comment --comment "Kubernetes health check node port" ${match(SET.healthCheckNodePort, 'dst')} -j ACCEPT`);
  for (const [proto, local, all] of [
    ['tcp', SET.nodePortLocalTCP, SET.nodePortTCP],
    ['udp', SET.nodePortLocalUDP, SET.nodePortUDP],
  ] as const) {
    for (const s of [local, all]) rules.push(`-A ${KUBE_NODE_PORT} -p ${proto} -m addrtype --dst-type LOCAL ${match(s, 'dst')} -j ACCEPT`);
  }
  for (const s of [SET.nodePortLocalSCTP, SET.nodePortSCTP]) rules.push(`-A ${KUBE_NODE_PORT} -p sctp ${match(s, 'dst,dst')} -j ACCEPT`);
  rules.push(
    // Before the NodePort and service ACCEPTs further down INPUT: the Local addresses with no local endpoint.
    `-A ${KUBE_PROXY_FIREWALL} -m comment --comment "has no local endpoints" ${match(SET.noLocalEndpoints, 'dst,dst')} -j DROP`,
    `-A ${KUBE_PROXY_FIREWALL} ${match(SET.loadBalancerFW, 'dst,dst')} -j ${KUBE_SOURCE_RANGES_FIREWALL}`,
    `-A ${KUBE_SOURCE_RANGES_FIREWALL} ${match(SET.loadBalancerSourceCIDR, 'dst,dst,src')} -j RETURN`,
    `-A ${KUBE_SOURCE_RANGES_FIREWALL} -j DROP`,
  );
  for (const chain of [KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER]) {
    for (const s of [SET.loadBalancer, SET.clusterIP, SET.externalIP, SET.externalIPLocal]) rules.push(`-A ${chain} ${match(s, 'dst,dst')} -j ACCEPT`);
    rules.push(`-A ${chain} ${match(SET.healthCheckNodePort, 'dst')} -j RETURN`);
    rules.push(`-A ${chain} -m comment --comment "kubernetes ipvs access filter" ${NEW} ${match(SET.ipvsIPs, 'dst')} -j REJECT`);
  }
  return ['*filter', ...FILTER_CHAINS.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT'];
}
