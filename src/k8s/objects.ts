// Slim typed copies of the API objects netlet uses. Raw JSON is converted once
// on arrival (src/k8s/convert/) and dropped, so the store holds only these
// fields: less memory at 10k services, and consumers never dig through `any`.
// Field meanings follow the Kubernetes API; defaults are applied at conversion.

import { flatString } from '../base/flat-string.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type IPFamily = 'IPv4' | 'IPv6';

export interface ObjectMeta {
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
}

export interface ServicePort {
  /** '' when the port has no name. */
  name: string;
  protocol: Protocol;
  port: number;
  targetPort: number | string;
  /** 0 when none is allocated. */
  nodePort: number;
  appProtocol?: string;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface Service {
  kind: 'Service';
  meta: ObjectMeta;
  type: ServiceType;
  /** Real cluster IPs; empty for headless ("None") and ExternalName services. */
  clusterIPs: string[];
  headless: boolean;
  ipFamilies: IPFamily[];
  ports: ServicePort[];
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIngressIPs: string[];
  loadBalancerSourceRanges: string[];
  /** Only for type ExternalName, without a trailing dot. */
  externalName: string;
  sessionAffinity: 'None' | 'ClientIP';
  /** Defaults to 10800 as in the API. */
  sessionAffinityTimeoutSeconds: number;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** 0 when none. */
  healthCheckNodePort: number;
  publishNotReadyAddresses: boolean;
  /** spec.trafficDistribution, e.g. 'PreferClose'; '' when unset. */
  trafficDistribution: string;
  /** annotation service.kubernetes.io/topology-mode (or the older topology-aware-hints); '' when unset. */
  topologyMode: string;
  /** label service.kubernetes.io/service-proxy-name: kube-proxy ignores such services. '' when unset. */
  serviceProxyName: string;
}

export interface EndpointPort {
  name: string;
  protocol: Protocol;
  port: number;
  appProtocol?: string;
}

export interface Endpoint {
  addresses: string[];
  /** conditions.ready; an unset condition counts as ready (API semantics). */
  ready: boolean;
  /** conditions.serving; unset means the same as ready. */
  serving: boolean;
  /** conditions.terminating; unset means false. */
  terminating: boolean;
  hostname: string;
  nodeName: string;
  zone: string;
  /** hints.forZones[].name */
  zoneHints: string[];
  /** targetRef when it points at a Pod. */
  targetPod?: { namespace: string; name: string };
}

export interface EndpointSlice {
  kind: 'EndpointSlice';
  meta: ObjectMeta;
  /** label kubernetes.io/service-name; '' when the slice belongs to no service. */
  serviceName: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointPort[];
  endpoints: Endpoint[];
  /** annotation endpoints.kubernetes.io/last-change-trigger-time, ms since epoch; 0 when absent. */
  triggerTimeMs: number;
  /** label multicluster.kubernetes.io/service-name (MCS API): the ServiceImport this slice feeds; absent on ordinary slices. */
  importName?: string;
  /** label multicluster.kubernetes.io/source-cluster: the cluster the endpoints live in ('' when unlabelled). */
  sourceCluster?: string;
}

export interface Node {
  kind: 'Node';
  meta: ObjectMeta;
  podCIDRs: string[];
  internalIPs: string[];
  externalIPs: string[];
  hostname: string;
  /** label topology.kubernetes.io/zone; '' when unset. */
  zone: string;
  /** status condition Ready == True */
  ready: boolean;
  labels: Record<string, string>;
  /**
   * The node's VXLAN device MAC when the Node publishes one (annotation
   * VXLAN_MAC_ANNOTATION, a unicast MAC); absent otherwise, and then every
   * node derives the same MAC from the node's name (routes/vtep-mac.ts).
   */
  vxlanMac?: string;
}

/** The annotation a Node may publish its VXLAN device MAC in. */
export const VXLAN_MAC_ANNOTATION = 'netlet.io/vxlan-mac';

export interface Pod {
  kind: 'Pod';
  meta: ObjectMeta;
  nodeName: string;
  podIPs: string[];
  hostNetwork: boolean;
  phase: string;
  hostname: string;
  subdomain: string;
}

export interface Namespace {
  kind: 'Namespace';
  meta: ObjectMeta;
  /** Present when the namespace has labels (DNS `namespace_labels` selects on them); namespaces are few, so keeping them costs little. */
  labels?: Record<string, string>;
}

/**
 * netlet's IPAM block claim (CRD ipamblocks.netlet.io/v1, cluster-scoped):
 * a block of a pool owned by one node. Named after its CIDR with '.', ':' and
 * '/' replaced by '-'.
 */
export interface IPAMBlock {
  kind: 'IPAMBlock';
  meta: ObjectMeta;
  cidr: string;
  /** The node that claimed it. */
  node: string;
  pool: string;
}

/** A CIDR in a BGPConfiguration's service lists. */
export interface BgpCidr {
  cidr: string;
}

/**
 * netlet's BGPConfiguration (CRD bgpconfigurations.netlet.io/v1,
 * cluster-scoped), Calico's fields: `default` holds the cluster's settings,
 * `node.<nodename>` one node's. An absent field leaves the setting to the
 * next level (agent config, then `default`).
 */
export interface BGPConfiguration {
  kind: 'BGPConfiguration';
  meta: ObjectMeta;
  asNumber?: number;
  nodeToNodeMeshEnabled?: boolean;
  listenPort?: number;
  serviceClusterIPs?: BgpCidr[];
  serviceExternalIPs?: BgpCidr[];
  serviceLoadBalancerIPs?: BgpCidr[];
}

/**
 * netlet's BGPPeer (CRD bgppeers.netlet.io/v1, cluster-scoped), Calico's
 * fields: which nodes peer (`node`, `nodeSelector`, or every node) with
 * whom (`peerIP` and `asNumber`, or the nodes `peerSelector` matches).
 * Selectors are Calico selector expressions. Durations in seconds.
 */
export interface BGPPeer {
  kind: 'BGPPeer';
  meta: ObjectMeta;
  /** '' when peerSelector is set. */
  peerIP: string;
  /** 0 when peerSelector is set (the nodes' AS is the cluster's). */
  asNumber: number;
  node: string;
  nodeSelector: string;
  peerSelector: string;
  /** 0: 179, or the port given in peerIP ("ip:port"). */
  port: number;
  holdTime?: number;
  keepaliveTime?: number;
  gracefulRestart?: boolean;
  nextHopSelf?: boolean;
  /** An IP address, 'UseNodeIP' (the default) or 'None'. */
  sourceAddress: string;
  /** A key of a Secret (mounted under bgp.secretsDirectory) that holds the TCP MD5 password. */
  password?: { secretName: string; key: string };
}

/**
 * The MCS API's ServiceImport (multicluster.x-k8s.io/v1alpha1): a service
 * exported from one or more clusters of the clusterset. DNS answers its
 * clusterset names from it (KEP-1645).
 */
export interface ServiceImport {
  kind: 'ServiceImport';
  meta: ObjectMeta;
  type: 'ClusterSetIP' | 'Headless';
  /** spec.ips: the clusterset IPs (ClusterSetIP only). */
  ips: string[];
  ports: Array<{ name: string; protocol: Protocol; port: number }>;
}

export interface KindMap {
  Service: Service;
  EndpointSlice: EndpointSlice;
  Node: Node;
  Pod: Pod;
  Namespace: Namespace;
  IPAMBlock: IPAMBlock;
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
  ServiceImport: ServiceImport;
}

export type Kind = keyof KindMap;
export type AnyObject = KindMap[Kind];

export const ALL_KINDS: readonly Kind[] = ['Service', 'EndpointSlice', 'Node', 'Pod', 'Namespace', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer', 'ServiceImport'];

/** Store key: "namespace/name" for namespaced objects, "name" for cluster-scoped ones. */
export function objectKey(meta: Pick<ObjectMeta, 'namespace' | 'name'>): string {
  return meta.namespace ? flatString(meta.namespace, '/', meta.name) : meta.name;
}
