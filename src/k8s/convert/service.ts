// v1 Service → slim Service. Defaults follow the API server's (core/v1
// defaults.go): type ClusterIP, protocol TCP, targetPort = port,
// sessionAffinity None with a 10800 s ClientIP timeout, traffic policies Cluster.

import type { IPFamily, Service, ServicePort, ServiceType } from '../objects.ts';
import {
  bool, cidr, dnsLabel, dnsSubdomain, fail, ianaSvcName, int, ip, ipFamily, ipList, labelOf, list, mapValue, meta, oneOf,
  optionalPort, optionalString, port, protocol, record, sized, string,
} from './fields.ts';
import type { Ctx, Raw } from './fields.ts';

export const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
export const POLICIES = ['Cluster', 'Local'] as const;
export const AFFINITIES = ['None', 'ClientIP'] as const;

/** core/v1 DefaultClientIPServiceAffinitySeconds; the API caps it at one day. */
const DEFAULT_AFFINITY_SECONDS = 10800;
export const MAX_AFFINITY_SECONDS = 86400;

export function convertService(raw: unknown): Service {
  const { meta: m, ctx, labels, annotations } = meta('Service', raw, true);
  const spec = record(ctx, (raw as Raw).spec, 'spec') ?? {};
  const status = record(ctx, (raw as Raw).status, 'status');

  const type = oneOf(ctx, spec.type, 'spec.type', SERVICE_TYPES, 'ClusterIP');
  const { clusterIPs, headless } = type === 'ExternalName' ? { clusterIPs: [], headless: false } : clusterIPsOf(ctx, spec);

  const rawFamilies = list(ctx, spec.ipFamilies, 'spec.ipFamilies');
  // map(), not push(): a kept list sized to its length (docs/design/v8-heap.md#arrays-sized-to-their-length).
  const ipFamilies: IPFamily[] = rawFamilies.length > 0
    ? rawFamilies.map((f, i) => ipFamily(ctx, f, `spec.ipFamilies[${i}]`))
    // Objects written before dual-stack (or by hand) lack ipFamilies: derive them.
    : clusterIPs.map((a): IPFamily => (a.includes(':') ? 'IPv6' : 'IPv4'));

  const rawPorts = list(ctx, spec.ports, 'spec.ports');
  const ports: ServicePort[] = new Array(rawPorts.length);
  for (let i = 0; i < rawPorts.length; i++) ports[i] = servicePort(ctx, rawPorts[i], `spec.ports[${i}]`);
  distinctPorts(ctx, ports);

  const affinity = oneOf(ctx, spec.sessionAffinity, 'spec.sessionAffinity', AFFINITIES, 'None');
  const affinityConfig = record(ctx, spec.sessionAffinityConfig, 'spec.sessionAffinityConfig');
  const clientIP = affinityConfig && record(ctx, affinityConfig.clientIP, 'spec.sessionAffinityConfig.clientIP');
  const affinityTimeout = int(
    ctx, clientIP?.timeoutSeconds, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
    DEFAULT_AFFINITY_SECONDS, 1, MAX_AFFINITY_SECONDS,
  );

  const loadBalancer = status && record(ctx, status.loadBalancer, 'status.loadBalancer');
  const ingress = list(ctx, loadBalancer?.ingress, 'status.loadBalancer.ingress');
  const loadBalancerIngressIPs: string[] = [];
  for (let i = 0; i < ingress.length; i++) {
    const entry = record(ctx, ingress[i], `status.loadBalancer.ingress[${i}]`);
    // Entries may carry only a hostname (e.g. cloud load balancers); those give no IP to program.
    if (entry && entry.ip !== undefined && entry.ip !== null && entry.ip !== '') {
      loadBalancerIngressIPs.push(ip(ctx, entry.ip, `status.loadBalancer.ingress[${i}].ip`));
    }
  }

  const rawRanges = list(ctx, spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges');
  const loadBalancerSourceRanges: string[] = new Array(rawRanges.length);
  for (let i = 0; i < rawRanges.length; i++) {
    // kube-proxy trims spaces around each range before parsing it.
    const r = rawRanges[i];
    loadBalancerSourceRanges[i] = cidr(ctx, typeof r === 'string' ? r.trim() : r, `spec.loadBalancerSourceRanges[${i}]`);
  }

  let externalName = '';
  if (type === 'ExternalName') {
    externalName = string(ctx, spec.externalName, 'spec.externalName');
    if (!externalName) fail(ctx, 'spec.externalName', 'required for type ExternalName');
    if (externalName.endsWith('.')) externalName = externalName.slice(0, -1);
    dnsSubdomain(ctx, externalName, 'spec.externalName');
  }

  // The older beta annotation is still honoured by kube-proxy when the new one is absent.
  const topologyMode =
    mapValue(ctx, annotations, 'metadata.annotations', 'service.kubernetes.io/topology-mode') ||
    mapValue(ctx, annotations, 'metadata.annotations', 'service.kubernetes.io/topology-aware-hints');

  return {
    kind: 'Service',
    meta: m,
    type,
    clusterIPs,
    headless,
    ipFamilies,
    ports,
    externalIPs: ipList(ctx, spec.externalIPs, 'spec.externalIPs'),
    loadBalancerIngressIPs: sized(loadBalancerIngressIPs),
    loadBalancerSourceRanges,
    externalName,
    sessionAffinity: affinity,
    sessionAffinityTimeoutSeconds: affinityTimeout,
    externalTrafficPolicy: oneOf(ctx, spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', POLICIES, 'Cluster'),
    internalTrafficPolicy: oneOf(ctx, spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', POLICIES, 'Cluster'),
    healthCheckNodePort: optionalPort(ctx, spec.healthCheckNodePort, 'spec.healthCheckNodePort'),
    publishNotReadyAddresses: bool(ctx, spec.publishNotReadyAddresses, 'spec.publishNotReadyAddresses', false),
    trafficDistribution: string(ctx, spec.trafficDistribution, 'spec.trafficDistribution'),
    topologyMode,
    serviceProxyName: labelOf(ctx, labels, 'service.kubernetes.io/service-proxy-name'),
  };
}

/**
 * spec.clusterIPs wins over the older single spec.clusterIP. "None" (only
 * allowed as the sole/first entry) makes the service headless; "" means no
 * IP has been allocated yet.
 */
function clusterIPsOf(ctx: Ctx, spec: Raw): { clusterIPs: string[]; headless: boolean } {
  let items = list(ctx, spec.clusterIPs, 'spec.clusterIPs');
  let field = 'spec.clusterIPs';
  if (items.length === 0) {
    const single = string(ctx, spec.clusterIP, 'spec.clusterIP');
    items = single ? [single] : [];
    field = 'spec.clusterIP';
  }
  if (items[0] === 'None') return { clusterIPs: [], headless: true };
  const clusterIPs: string[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    clusterIPs[i] = ip(ctx, items[i], field === 'spec.clusterIP' ? field : `${field}[${i}]`);
  }
  return { clusterIPs, headless: false };
}

/** One of spec.ports; the slim ServicePort has the same fields, so slim.ts checks a snapshot's with this too. */
export function servicePort(ctx: Ctx, v: unknown, field: string): ServicePort {
  const p = record(ctx, v, field);
  if (!p) return fail(ctx, field, 'expected a mapping, got null');
  const number = port(ctx, p.port, `${field}.port`);
  const out: ServicePort = {
    name: dnsLabel(ctx, p.name, `${field}.name`),
    protocol: protocol(ctx, p.protocol, `${field}.protocol`),
    port: number,
    targetPort: targetPort(ctx, p.targetPort, `${field}.targetPort`, number),
    nodePort: optionalPort(ctx, p.nodePort, `${field}.nodePort`),
  };
  const appProtocol = optionalString(ctx, p.appProtocol, `${field}.appProtocol`);
  if (appProtocol) out.appProtocol = appProtocol;
  return out;
}

/** IntOrString: a number 1-65535 or a port name; absent/0 defaults to the service port. */
export function targetPort(ctx: Ctx, v: unknown, field: string, servicePortNumber: number): number | string {
  if (v === undefined || v === null || v === 0 || v === '') return servicePortNumber;
  if (typeof v === 'string') {
    // An all-digit string cannot be a port name (IANA service names need a
    // letter), so a quoted "8080" in a manifest is read as the number meant.
    return /^\d+$/.test(v) ? port(ctx, Number(v), field) : ianaSvcName(ctx, v, field);
  }
  return port(ctx, v, field);
}

/**
 * The API server's rules for a Service's ports: with more than one, each
 * has a name and the names differ, and no two share port and protocol. Two
 * ports of one name and protocol would be one service port twice: the same
 * chain names, which iptables-restore refuses for the whole input.
 */
export function distinctPorts(ctx: Ctx, ports: readonly ServicePort[]): void {
  if (ports.length < 2) return;
  const names = new Set<string>();
  const numbers = new Set<string>();
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i];
    if (!p.name) fail(ctx, `spec.ports[${i}].name`, 'required when a Service has more than one port');
    if (names.has(p.name)) fail(ctx, `spec.ports[${i}].name`, `duplicate port name ${JSON.stringify(p.name)}`);
    names.add(p.name);
    const key = `${p.port}/${p.protocol}`;
    if (numbers.has(key)) fail(ctx, `spec.ports[${i}]`, `duplicate port ${key}`);
    numbers.add(key);
  }
}
