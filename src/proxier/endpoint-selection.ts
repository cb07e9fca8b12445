// Which endpoints a service port uses, as kube-proxy's CategorizeEndpoints
// (pkg/proxy/topology.go) decides: Ready endpoints, filtered by topology for
// cluster traffic; when none is usable, the Serving+Terminating ones
// (KEP-1669), decided separately for the Cluster and the Local policy.

import type { PlanEndpoint } from './plan.ts';
import { availableForTopology, canUseTopology } from './topology.ts';
import type { TopologyService } from './topology.ts';

export interface CandidateEndpoint extends PlanEndpoint {
  zoneHints: readonly string[];
  /** endpointId(): "IP:port", "[IPv6]:port"; the sort and deduplication key. */
  id: string;
}

export interface SelectionInput extends TopologyService {
  /** internalTrafficPolicy: Local */
  internalPolicyLocal: boolean;
  /** externalTrafficPolicy: Local, for a service reachable from outside (NodePort, external or LB IPs). */
  externalPolicyLocal: boolean;
  externallyAccessible: boolean;
}

export interface Selection {
  clusterEndpoints: CandidateEndpoint[];
  localEndpoints: CandidateEndpoint[];
  /** The union of both, in the candidates' order (by IP:port). */
  allEndpoints: CandidateEndpoint[];
  /**
   * Some endpoint of the service is usable somewhere in the cluster, even if
   * none is usable from this node (CategorizeEndpoints' hasAnyEndpoints).
   */
  hasAnyEndpoints: boolean;
}

/** Cluster endpoints are needed unless every kind of traffic the port receives is Local. */
export function usesClusterEndpoints(s: SelectionInput): boolean {
  // Even with externalTrafficPolicy Local, in-cluster sources short-circuit to the cluster endpoints.
  return !s.internalPolicyLocal || s.externallyAccessible;
}

export function usesLocalEndpoints(s: SelectionInput): boolean {
  return s.internalPolicyLocal || (s.externalPolicyLocal && s.externallyAccessible);
}

const isServingTerminating = (ep: PlanEndpoint): boolean => ep.serving && ep.terminating;

export function endpointId(ep: Pick<PlanEndpoint, 'ip' | 'port'>): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/**
 * `endpoints` must already be deduplicated and sorted by `id` (see
 * sortCandidates); filtering keeps that order, so no list is sorted here.
 */
export function selectEndpoints(svc: SelectionInput, endpoints: readonly CandidateEndpoint[], nodeZone: string): Selection {
  let clusterEndpoints: CandidateEndpoint[] = [];
  let localEndpoints: CandidateEndpoint[] = [];

  if (usesClusterEndpoints(svc)) {
    const useTopology = canUseTopology(svc, endpoints, nodeZone);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && (!useTopology || availableForTopology(ep, nodeZone)));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(isServingTerminating);
  }

  // With Cluster endpoints in use, any usable endpoint anywhere lands in them.
  let hasAnyEndpoints = clusterEndpoints.length > 0;
  if (usesLocalEndpoints(svc)) {
    // A Local policy looks at every node's endpoints too: "usable elsewhere
    // only" is told apart from "no endpoints at all" (DROP, not REJECT).
    hasAnyEndpoints ||= endpoints.some((ep) => ep.ready || isServingTerminating(ep));
    const localReady = endpoints.filter((ep) => ep.isLocal && ep.ready);
    localEndpoints = localReady.length > 0 ? localReady : endpoints.filter((ep) => ep.isLocal && isServingTerminating(ep));
  }

  let allEndpoints: CandidateEndpoint[];
  if (localEndpoints.length === 0) allEndpoints = clusterEndpoints;
  else if (clusterEndpoints.length === 0) allEndpoints = localEndpoints;
  else {
    const chosen = new Set<CandidateEndpoint>([...clusterEndpoints, ...localEndpoints]);
    allEndpoints = endpoints.filter((ep) => chosen.has(ep));
  }
  return { clusterEndpoints, localEndpoints, allEndpoints, hasAnyEndpoints };
}

/**
 * Stable order so rules do not churn between syncs: by "IP:port" as text,
 * as kube-proxy sorts endpoints (byEndpoint on String()). Sorting on a key
 * computed once per endpoint keeps this cheap at 250 endpoints per service.
 */
export function sortCandidates(endpoints: CandidateEndpoint[]): CandidateEndpoint[] {
  return endpoints.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
