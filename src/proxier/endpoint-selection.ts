// Which endpoints a service port uses, as kube-proxy's CategorizeEndpoints
// (pkg/proxy/topology.go) decides: Ready endpoints, filtered by topology for
// cluster traffic; when none is usable, the Serving+Terminating ones
// (KEP-1669), decided separately for the Cluster and the Local policy.

import type { PlanEndpoint } from './plan.ts';
import { availableForTopology, canUseTopology } from './topology.ts';
import type { TopologyService } from './topology.ts';

export interface CandidateEndpoint extends PlanEndpoint {
  zoneHints: readonly string[];
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
  /** The union of both, sorted by IP:port. */
  allEndpoints: CandidateEndpoint[];
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

/** `endpoints` must already be deduplicated. */
export function selectEndpoints(svc: SelectionInput, endpoints: readonly CandidateEndpoint[], nodeZone: string): Selection {
  let clusterEndpoints: CandidateEndpoint[] = [];
  let localEndpoints: CandidateEndpoint[] = [];

  if (usesClusterEndpoints(svc)) {
    const useTopology = canUseTopology(svc, endpoints, nodeZone);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && (!useTopology || availableForTopology(ep, nodeZone)));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(isServingTerminating);
  }

  if (usesLocalEndpoints(svc)) {
    const localReady = endpoints.filter((ep) => ep.isLocal && ep.ready);
    localEndpoints = localReady.length > 0 ? localReady : endpoints.filter((ep) => ep.isLocal && isServingTerminating(ep));
  }

  const union = new Map<string, CandidateEndpoint>();
  for (const ep of clusterEndpoints) union.set(endpointId(ep), ep);
  for (const ep of localEndpoints) union.set(endpointId(ep), ep);
  const allEndpoints = [...union.values()].sort(compareEndpoints);
  return { clusterEndpoints: clusterEndpoints.sort(compareEndpoints), localEndpoints: localEndpoints.sort(compareEndpoints), allEndpoints };
}

/** Stable order (by IP, then port) so rules do not churn between syncs. */
export function compareEndpoints(a: Pick<PlanEndpoint, 'ip' | 'port'>, b: Pick<PlanEndpoint, 'ip' | 'port'>): number {
  const ka = endpointId(a);
  const kb = endpointId(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
