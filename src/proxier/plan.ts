// The backend-neutral plan: everything kube-proxy decides per service port,
// computed once in proxier/ as plain data. A backend (iptables/) only renders
// and applies it (docs/design/layout.md#floors), so no backend decides policy
// and the decisions are testable without a kernel.

import type { Protocol } from '../k8s/objects.ts';

import type { Family } from '../base/family.ts';

export type { Family };

/**
 * Which of a plan's endpoint lists a kind of traffic is sent to: 'cluster'
 * (clusterEndpoints, every node's) or 'local' (localEndpoints, this node's).
 */
export type EndpointSet = 'cluster' | 'local';

/**
 * What traffic gets when the endpoint set it uses holds no endpoint:
 * - 'reject': the service has no usable endpoint anywhere; the client is
 *   told at once (ICMP port unreachable: "connection refused");
 * - 'drop': endpoints exist, but only on other nodes and the policy is
 *   Local; the packet is dropped silently ("has no local endpoints"), as
 *   kube-proxy does, so the client times out rather than being refused;
 * - 'none': the set has endpoints; nothing is rejected or dropped, the
 *   traffic goes to them.
 */
export type NoEndpointsAction = 'reject' | 'drop' | 'none';

export interface PlanEndpoint {
  ip: string;
  port: number;
  /** Runs on this node. */
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string;
  zone: string;
}

export interface ServicePortPlan {
  /**
   * The service port name as kube-proxy writes it: "namespace/name:portName",
   * or "namespace/name" when the port has no name. Chain names hash this + protocol.
   */
  servicePortName: string;
  namespace: string;
  name: string;
  portName: string;
  /** Lower case, as in chain-name hashing and iptables `-p`. */
  protocol: Lowercase<Protocol>;
  family: Family;

  clusterIP: string;
  port: number;
  /** 0 when none. */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** CIDRs allowed to reach the load balancer IPs; empty means everyone. */
  loadBalancerSourceRanges: string[];
  /**
   * Added (LB source ranges and the node): one of loadBalancerSourceRanges
   * holds this node's IP of the plan's family. The node reaching its own LB IP
   * (often a local address, so the connection's source is the LB IP itself)
   * is then let through the firewall too, as kube-proxy's allowFromNode does.
   */
  loadBalancerSourceRangesIncludeNode: boolean;
  /** 0 when none; only set for externalTrafficPolicy Local LoadBalancer/NodePort services. */
  healthCheckNodePort: number;

  /** ClientIP affinity timeout in seconds, or 0 for no affinity. */
  affinityTimeoutSeconds: number;

  // What a renderer does with the traffic: decided once in plan-builder.ts
  // (planDecisions), so an iptables, nftables or IPVS renderer only writes
  // these down in its own words.

  /** Reachable from outside the pod network: a NodePort, external IPs or load balancer IPs. */
  externallyAccessible: boolean;
  /**
   * Where traffic to the ClusterIP goes: 'local' for internalTrafficPolicy
   * Local, else 'cluster'.
   */
  internalTraffic: EndpointSet;
  /**
   * Where external traffic (to the NodePort, external IPs and load balancer
   * IPs) goes: 'local' for externalTrafficPolicy Local on an externally
   * accessible service, else 'cluster'. 'cluster' traffic is masqueraded
   * (an endpoint on another node must answer through this one). 'local'
   * traffic keeps the client's source, but for two sources that are not
   * clients from outside: pods (from clusterCIDRs) and the node itself (a
   * local source address) reaching an external address are sent to the
   * cluster endpoints, as if they had gone out to the load balancer and come
   * back, and the node's own connections are masqueraded (kube-proxy's
   * short-circuit).
   */
  externalTraffic: EndpointSet;
  /** What internal and external traffic get when their endpoint set is empty (external: 'none' when not externally accessible). */
  noEndpoints: { readonly internal: NoEndpointsAction; readonly external: NoEndpointsAction };
  /**
   * External traffic enters through the service's own external entry
   * (iptables: its KUBE-EXT chain), which applies externalTraffic's
   * masquerade and short-circuit before an endpoint is picked. False when
   * the service is not externally accessible or has no usable endpoint
   * anywhere: its external traffic then only meets noEndpoints.external.
   */
  externalEntry: boolean;
  /**
   * Traffic to the load balancer IPs passes the loadBalancerSourceRanges
   * firewall first (iptables: its KUBE-FW chain; what no range admits is
   * dropped). False without load balancer IPs, without ranges, or without
   * any usable endpoint (then noEndpoints applies instead).
   */
  firewall: boolean;

  /**
   * Every endpoint that needs its own endpoint chain/real server: the union of
   * clusterEndpoints and localEndpoints, in a stable order (sorted by IP:port).
   */
  allEndpoints: PlanEndpoint[];
  /**
   * Endpoints for traffic subject to the Cluster policy, after topology
   * filtering; ready ones, or serving+terminating ones when none is ready.
   */
  clusterEndpoints: PlanEndpoint[];
  /** Endpoints on this node for Local policies, with the same fallback rule. */
  localEndpoints: PlanEndpoint[];
  /**
   * The service has a usable endpoint somewhere in the cluster, even when
   * neither list above holds one (a Local policy whose endpoints all run on
   * other nodes): what tells 'drop' from 'reject' in noEndpoints.
   */
  hasAnyEndpoints: boolean;

  /** True when every packet to the service is masqueraded (masqueradeAll). */
  masqueradeAll: boolean;
  /**
   * The clusterCIDR(s) of this family: traffic to the ClusterIP from outside
   * them is masqueraded. Empty when unknown (then only masqueradeAll applies).
   */
  clusterCIDRs: string[];
}

/** The whole set of plans for one IP family, keyed by `planKey`. */
export type PlanSet = Map<string, ServicePortPlan>;

/** Stable key of a plan: servicePortName + protocol, as kube-proxy hashes them. */
export function planKey(p: Pick<ServicePortPlan, 'servicePortName' | 'protocol'>): string {
  return `${p.servicePortName}/${p.protocol}`;
}
