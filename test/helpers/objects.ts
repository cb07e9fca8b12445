// Builders of slim objects for unit tests of the store's consumers.
import type { Endpoint, EndpointSlice, Node, Pod, Service, ServicePort } from '../../src/k8s/objects.ts';

let rv = 1;
const nextRV = () => String(rv++);

export function service(ns: string, name: string, over: Partial<Service> = {}): Service {
  return {
    kind: 'Service',
    meta: { namespace: ns, name, uid: `uid-${ns}-${name}`, resourceVersion: nextRV() },
    type: 'ClusterIP',
    clusterIPs: ['10.96.0.10'],
    headless: false,
    ipFamilies: ['IPv4'],
    ports: [servicePort()],
    externalIPs: [],
    loadBalancerIngressIPs: [],
    loadBalancerSourceRanges: [],
    externalName: '',
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    healthCheckNodePort: 0,
    publishNotReadyAddresses: false,
    trafficDistribution: '',
    topologyMode: '',
    serviceProxyName: '',
    ...over,
  };
}

export function servicePort(over: Partial<ServicePort> = {}): ServicePort {
  return { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 0, ...over };
}

export function endpoint(ip: string, over: Partial<Endpoint> = {}): Endpoint {
  return {
    addresses: [ip],
    ready: true,
    serving: true,
    terminating: false,
    hostname: '',
    nodeName: 'node-a',
    zone: '',
    zoneHints: [],
    ...over,
  };
}

export function endpointSlice(ns: string, service: string, name: string, endpoints: Endpoint[], over: Partial<EndpointSlice> = {}): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    meta: { namespace: ns, name, uid: `uid-${ns}-${name}`, resourceVersion: nextRV() },
    serviceName: service,
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints,
    triggerTimeMs: 0,
    ...over,
  };
}

export function node(name: string, over: Partial<Node> = {}): Node {
  return {
    kind: 'Node',
    meta: { namespace: '', name, uid: `uid-${name}`, resourceVersion: nextRV() },
    podCIDRs: [],
    internalIPs: [],
    externalIPs: [],
    hostname: name,
    zone: '',
    ready: true,
    labels: {},
    ...over,
  };
}

export function pod(ns: string, name: string, ip: string, over: Partial<Pod> = {}): Pod {
  return {
    kind: 'Pod',
    meta: { namespace: ns, name, uid: `uid-${ns}-${name}`, resourceVersion: nextRV() },
    nodeName: 'node-a',
    podIPs: [ip],
    hostNetwork: false,
    phase: 'Running',
    hostname: '',
    subdomain: '',
    ...over,
  };
}
