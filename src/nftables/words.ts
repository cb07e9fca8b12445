// The family-dependent words of nft syntax and netlet's names in its table.
// Chain and set names are bare identifiers: nft 1.0.6 refuses quoted names.

import type { Family } from '../proxier/plan.ts';

/**
 * netlet's own table in each family. Not kube-proxy's `kube-proxy`: its
 * nftables mode owns that table whole (it deletes what it does not know
 * and its layout differs), so sharing the name would have each undo the
 * other. The iptables mode keeps kube-proxy's names because iptables
 * chains are shared ground and a takeover there is chain by chain; in
 * nftables a table is the unit of ownership. `netlet cleanup --kube-proxy`
 * removes kube-proxy's tables when migrating (cleanup.ts).
 */
export const TABLE = 'netlet';
export const KUBE_PROXY_TABLE = 'kube-proxy';

export interface FamilyWords {
  family: Family;
  /** Table family and address match prefix: "ip" or "ip6". */
  ip: 'ip' | 'ip6';
  addrType: 'ipv4_addr' | 'ipv6_addr';
  /** Where NodePorts are never offered (as in the iptables mode). */
  loopback: string;
}

export function wordsFor(family: Family): FamilyWords {
  return family === 6
    ? { family, ip: 'ip6', addrType: 'ipv6_addr', loopback: '::1' }
    : { family, ip: 'ip', addrType: 'ipv4_addr', loopback: '127.0.0.0/8' };
}

/** `table` prefix of every statement: "ip netlet". */
export const tableRef = (w: FamilyWords): string => `${w.ip} ${TABLE}`;

// The shared maps and sets every service's elements go into.
export const SERVICE_IPS = 'service-ips';
export const SERVICE_NODEPORTS = 'service-nodeports';
export const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const MASQ_ALL = 'masq-all';
export const HAIRPIN = 'hairpin';
export const FIREWALL_IPS = 'firewall-ips';
export const FIREWALL_ALLOW = 'firewall-allow';
/** One element: the digest of the elements the last sync left (element-digest.ts). */
export const SYNC_DIGEST = 'sync-digest';

// Shared chains.
export const SERVICES = 'services';
export const NODEPORTS = 'nodeports';
export const REJECT_PACKET = 'reject-packet';

/**
 * Per protocol and endpoint count N: the maps and chains that pick one of N
 * endpoints. One set per protocol, not one keyed by `meta l4proto . th
 * dport`: nft 1.0.6 reads such a `typeof` map back wrong and then refuses
 * any later rule with a port in the table ("conflicting protocols specified").
 */
export type PickGroup = `${'tcp' | 'udp' | 'sctp'}-${number}`;
export const pickGroup = (proto: 'tcp' | 'udp' | 'sctp', n: number): PickGroup => `${proto}-${n}`;
export const pickChain = (g: PickGroup): string => `pick-${g}`;
export const masqPickChain = (g: PickGroup): string => `masq-pick-${g}`;
export const nodePortPickChain = (g: PickGroup): string => `nodeport-masq-pick-${g}`;
export const endpointsMap = (g: PickGroup): string => `endpoints-${g}`;
export const nodePortEndpointsMap = (g: PickGroup): string => `nodeport-endpoints-${g}`;

/** The set of ClusterIP keys whose traffic from outside `cidr` is masqueraded. */
export function masqOutsideSet(cidr: string): string {
  return `masq-outside-${cidr.replace(/[.:/]/g, '-')}`;
}

/**
 * A service port's own chains (only services that need them: affinity or a
 * Local external policy) are named from its name, readable in `nft list`:
 * namespace, name and port name are DNS labels (no "_"), so "_" keeps them
 * apart and no hash is needed.
 */
export function serviceId(namespace: string, name: string, portName: string, protocol: string): string {
  return `${namespace}_${name}_${portName}_${protocol}`;
}

/** An endpoint in a name: "10-244-1-2-8080". */
export function endpointId(ip: string, port: number): string {
  return `${ip.replace(/[.:]/g, '-')}-${port}`;
}

