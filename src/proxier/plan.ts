// The backend-neutral plan: everything kube-proxy decides per service port,
// computed once in proxier/ as plain data. iptables/ and ipvs/ only render and
// apply it (ARCHITECTURE.md "One plan, many renderers"), so no backend decides
// policy and the decisions are testable without a kernel.

import type { Protocol } from '../k8s/objects.ts';

import type { Family } from '../base/family.ts';

export type { Family };

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
  /** externalTrafficPolicy: Local */
  externalPolicyLocal: boolean;
  /** internalTrafficPolicy: Local */
  internalPolicyLocal: boolean;

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
   * Added (Local-policy DROP vs REJECT): the service has a usable endpoint
   * somewhere in the cluster, even when neither list above holds one (a Local
   * policy whose endpoints all run on other nodes). Traffic with no endpoint
   * here is then dropped ("has no local endpoints"); only a service with no
   * usable endpoint at all is rejected, as kube-proxy does.
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
