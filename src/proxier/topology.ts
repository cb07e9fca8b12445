// Topology-aware routing as kube-proxy's topology.go decides it: hints are
// used only when the service asks for them (trafficDistribution PreferClose
// or PreferSameZone,
// or, when that field is unset, the topology-mode annotation "Auto"), this
// node has a zone, every ready endpoint carries hints, and at least one ready
// endpoint is hinted for this node's zone. Otherwise all endpoints are used,
// so hints can never leave a service without endpoints.

export interface TopologyService {
  trafficDistribution: string;
  topologyMode: string;
}

export interface HintedEndpoint {
  ready: boolean;
  zoneHints: readonly string[];
}

/** Whether the service's endpoints may be filtered by zone hints on a node in `nodeZone`. */
export function canUseTopology(svc: TopologyService, endpoints: readonly HintedEndpoint[], nodeZone: string): boolean {
  if (svc.trafficDistribution !== '') {
    // The field wins over the annotation when set (KEP-4444); PreferSameZone is
    // PreferClose's newer name (Kubernetes 1.34, KEP-3015).
    if (svc.trafficDistribution !== 'PreferClose' && svc.trafficDistribution !== 'PreferSameZone') return false;
  } else if (svc.topologyMode !== 'Auto' && svc.topologyMode !== 'auto') {
    return false;
  }
  if (nodeZone === '') return false;
  let hasEndpointForZone = false;
  for (const ep of endpoints) {
    // Unready endpoints are not candidates, so their hints do not matter.
    if (!ep.ready) continue;
    if (ep.zoneHints.length === 0) return false;
    if (ep.zoneHints.includes(nodeZone)) hasEndpointForZone = true;
  }
  return hasEndpointForZone;
}

export function availableForTopology(ep: HintedEndpoint, nodeZone: string): boolean {
  return ep.zoneHints.includes(nodeZone);
}
