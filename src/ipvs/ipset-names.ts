// The ipsets of the IPVS mode: kube-proxy's names, types and comments
// (pkg/proxy/ipvs), so a node moves between kube-proxy and netlet with the
// same sets. IPv6 sets are named KUBE-6-…; names longer than the kernel's 31
// characters are cut there, as kube-proxy cuts them
// (KUBE-6-LOAD-BALANCER-SOURCE-CID). Cleanup only touches names listed here.
// KUBE-NO-LOCAL-ENDPOINTS is netlet's own: the addresses a Local policy
// leaves with no endpoint on this node, dropped (kube-proxy's IPVS mode
// refuses them, its iptables and nftables modes drop them).

import type { Family } from '../base/family.ts';

export const SET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  externalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
  noLocalEndpoints: 'KUBE-NO-LOCAL-ENDPOINTS',
} as const;

export type SetName = (typeof SET)[keyof typeof SET];

interface SetDef {
  type: 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';
  comment: string;
}

const DEFS: Record<SetName, SetDef> = {
  [SET.loopBack]: { type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  [SET.clusterIP]: { type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  [SET.externalIP]: { type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  [SET.externalIPLocal]: { type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  [SET.loadBalancer]: { type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  [SET.loadBalancerLocal]: { type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  [SET.loadBalancerFW]: { type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  [SET.loadBalancerSourceIP]: { type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  [SET.loadBalancerSourceCIDR]: { type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  [SET.nodePortTCP]: { type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  [SET.nodePortLocalTCP]: { type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  [SET.nodePortUDP]: { type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  [SET.nodePortLocalUDP]: { type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  [SET.nodePortSCTP]: { type: 'hash:ip,port', comment: 'Kubernetes nodeport SCTP port for masquerade purpose with type \'hash ip:port\'' },
  [SET.nodePortLocalSCTP]: { type: 'hash:ip,port', comment: 'Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type \'hash ip:port\'' },
  [SET.healthCheckNodePort]: { type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  [SET.ipvsIPs]: { type: 'hash:ip', comment: 'Kubernetes service IP addresses bound to kube-ipvs0' },
  [SET.noLocalEndpoints]: { type: 'hash:ip,port', comment: 'service ip + port whose traffic policy is Local and that has no local endpoint: dropped' },
};

export const ALL_SETS = Object.values(SET) as SetName[];

/** The kernel's limit (IPSET_MAXNAMELEN 32, with the terminating NUL). */
const MAX_NAME = 31;

/** The set's name in the kernel for a family. */
export function setName(name: SetName, family: Family): string {
  const full = family === 6 ? `KUBE-6-${name.slice('KUBE-'.length)}` : name;
  return full.slice(0, MAX_NAME);
}

/** Every kernel name netlet (and kube-proxy) give these sets, both families: what cleanup may destroy. */
export function ownedSetNames(): Set<string> {
  return new Set(ALL_SETS.flatMap((n) => [setName(n, 4), setName(n, 6)]));
}

/** The `create` line of `ipset restore` (run with -exist: an existing set of the same type is kept). */
export function createLine(name: SetName, family: Family): string {
  const def = DEFS[name];
  const opts = def.type === 'bitmap:port' ? 'range 0-65535' : `family ${family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem 65536`;
  return `create ${setName(name, family)} ${def.type} ${opts}`;
}

export const setComment = (name: SetName): string => DEFS[name].comment;
