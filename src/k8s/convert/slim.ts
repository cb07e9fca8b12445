// Checks a slim object read back from a snapshot with the rules its raw form
// met at conversion (fields.ts, names.ts). A snapshot is written by netlet
// but can be edited by hand, and its strings reach rule text and DNS
// answers like any other object's: one that breaks the rules is refused
// alone, with an InvalidObjectError naming it and the field. Where a slim
// part has its raw form's fields (a Service's ports, a slice's ports, an
// endpoint's addresses), it is checked by the converter's own function, so
// those rules have one source.

import type { AnyObject, BGPPeer, EndpointSlice, IPAMBlock, Node, Pod, Service, ServiceImport } from '../objects.ts';
import { convertBGPConfiguration, convertBGPPeer } from './bgp.ts';
import { address, endpointPort } from './endpointslice.ts';
import {
  bool, cidr, dnsLabel, dnsSubdomain, fail, int, ip, ipFamily, labelValue, list, namedCtx, oneOf, optionalPort, record,
  string, stringMap,
} from './fields.ts';
import type { Ctx } from './fields.ts';
import { AFFINITIES, MAX_AFFINITY_SECONDS, POLICIES, SERVICE_TYPES, distinctPorts, servicePort } from './service.ts';
import { IMPORT_TYPES, importPort } from './serviceimport.ts';

const NAMESPACED = new Set(['Service', 'EndpointSlice', 'Pod', 'ServiceImport']);

/** Throws InvalidObjectError when `obj` breaks a rule its conversion enforces. */
export function checkSlim(obj: AnyObject): void {
  const ctx = namedCtx(obj.kind, obj.meta.namespace, obj.meta.name, NAMESPACED.has(obj.kind));
  switch (obj.kind) {
    case 'Service':
      return checkService(ctx, obj);
    case 'EndpointSlice':
      return checkSlice(ctx, obj);
    case 'Node':
      return checkNode(ctx, obj);
    case 'Pod':
      return checkPod(ctx, obj);
    case 'IPAMBlock':
      return checkBlock(ctx, obj);
    case 'BGPConfiguration': {
      // The slim form is the spec's own fields: the converter is the one rule book.
      const { kind: _k, meta: m, ...spec } = obj;
      convertBGPConfiguration({ metadata: { name: m.name }, spec });
      return;
    }
    case 'BGPPeer':
      convertBGPPeer(rawPeer(obj));
      return;
    case 'ServiceImport':
      return checkImport(ctx, obj);
    case 'Namespace':
      if (obj.labels !== undefined) stringMap(ctx, obj.labels, 'labels');
      return;
    default:
      return fail(ctx, 'kind', 'unknown kind');
  }
}

function eachOf(ctx: Ctx, v: unknown, field: string, check: (item: unknown, field: string) => unknown): void {
  const items = list(ctx, v, field);
  for (let i = 0; i < items.length; i++) check(items[i], `${field}[${i}]`);
}

function checkService(ctx: Ctx, s: Service): void {
  oneOf(ctx, s.type, 'type', SERVICE_TYPES, 'ClusterIP');
  eachOf(ctx, s.clusterIPs, 'clusterIPs', (v, f) => ip(ctx, v, f));
  eachOf(ctx, s.ipFamilies, 'ipFamilies', (v, f) => ipFamily(ctx, v, f));
  eachOf(ctx, s.externalIPs, 'externalIPs', (v, f) => ip(ctx, v, f));
  eachOf(ctx, s.loadBalancerIngressIPs, 'loadBalancerIngressIPs', (v, f) => ip(ctx, v, f));
  eachOf(ctx, s.loadBalancerSourceRanges, 'loadBalancerSourceRanges', (v, f) => cidr(ctx, v, f));
  eachOf(ctx, s.ports, 'ports', (v, f) => {
    // A converted port always has its targetPort (the conversion defaults it); the rest are the conversion's own rules.
    const p = record(ctx, v, f);
    if (p && (p.targetPort === undefined || p.targetPort === null)) fail(ctx, `${f}.targetPort`, 'required');
    servicePort(ctx, v, f);
  });
  distinctPorts(ctx, s.ports);
  if (s.externalName) dnsSubdomain(ctx, s.externalName, 'externalName');
  oneOf(ctx, s.sessionAffinity, 'sessionAffinity', AFFINITIES, 'None');
  int(ctx, s.sessionAffinityTimeoutSeconds, 'sessionAffinityTimeoutSeconds', 0, 1, MAX_AFFINITY_SECONDS);
  oneOf(ctx, s.externalTrafficPolicy, 'externalTrafficPolicy', POLICIES, 'Cluster');
  oneOf(ctx, s.internalTrafficPolicy, 'internalTrafficPolicy', POLICIES, 'Cluster');
  optionalPort(ctx, s.healthCheckNodePort, 'healthCheckNodePort');
  bool(ctx, s.publishNotReadyAddresses, 'publishNotReadyAddresses', false);
  string(ctx, s.trafficDistribution, 'trafficDistribution');
  string(ctx, s.topologyMode, 'topologyMode');
  labelValue(ctx, s.serviceProxyName, 'serviceProxyName');
}

function checkImport(ctx: Ctx, s: ServiceImport): void {
  oneOf(ctx, s.type, 'type', IMPORT_TYPES, 'ClusterSetIP');
  eachOf(ctx, s.ips, 'ips', (v, f) => ip(ctx, v, f));
  eachOf(ctx, s.ports, 'ports', (v, f) => importPort(ctx, v, f));
}

function checkSlice(ctx: Ctx, s: EndpointSlice): void {
  labelValue(ctx, s.serviceName, 'serviceName');
  if (s.importName !== undefined) labelValue(ctx, s.importName, 'importName');
  if (s.sourceCluster !== undefined) dnsLabel(ctx, s.sourceCluster, 'sourceCluster');
  const type = oneOf(ctx, s.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN'] as const, 'IPv4');
  const family = type === 'IPv4' ? 4 : type === 'IPv6' ? 6 : 0;
  eachOf(ctx, s.ports, 'ports', (v, f) => {
    // The conversion leaves a port without a number out (endpointPort's undefined): a kept one has it.
    const p = record(ctx, v, f);
    if (p && (p.port === undefined || p.port === null)) fail(ctx, `${f}.port`, 'required');
    endpointPort(ctx, v, f);
  });
  eachOf(ctx, s.endpoints, 'endpoints', (v, f) => {
    const e = record(ctx, v, f);
    if (!e) return fail(ctx, f, 'expected a mapping, got null');
    const addresses = list(ctx, e.addresses, `${f}.addresses`);
    if (addresses.length === 0) fail(ctx, `${f}.addresses`, 'at least one address is required');
    for (let i = 0; i < addresses.length; i++) address(ctx, addresses[i], `${f}.addresses[${i}]`, family);
    for (const c of ['ready', 'serving', 'terminating']) bool(ctx, e[c], `${f}.${c}`, false);
    dnsLabel(ctx, e.hostname, `${f}.hostname`);
    dnsSubdomain(ctx, e.nodeName, `${f}.nodeName`);
    string(ctx, e.zone, `${f}.zone`);
    eachOf(ctx, e.zoneHints, `${f}.zoneHints`, (z, zf) => string(ctx, z, zf));
    const pod = record(ctx, e.targetPod, `${f}.targetPod`);
    if (pod) {
      dnsLabel(ctx, pod.namespace, `${f}.targetPod.namespace`);
      dnsSubdomain(ctx, pod.name, `${f}.targetPod.name`);
    }
  });
}

function checkNode(ctx: Ctx, n: Node): void {
  eachOf(ctx, n.podCIDRs, 'podCIDRs', (v, f) => cidr(ctx, v, f));
  eachOf(ctx, n.internalIPs, 'internalIPs', (v, f) => ip(ctx, v, f));
  eachOf(ctx, n.externalIPs, 'externalIPs', (v, f) => ip(ctx, v, f));
  string(ctx, n.hostname, 'hostname');
  string(ctx, n.zone, 'zone');
  stringMap(ctx, n.labels, 'labels');
}

function checkPod(ctx: Ctx, p: Pod): void {
  dnsSubdomain(ctx, p.nodeName, 'nodeName');
  eachOf(ctx, p.podIPs, 'podIPs', (v, f) => ip(ctx, v, f));
  dnsLabel(ctx, p.hostname, 'hostname');
  dnsLabel(ctx, p.subdomain, 'subdomain');
}

function checkBlock(ctx: Ctx, b: IPAMBlock): void {
  cidr(ctx, b.cidr, 'cidr');
  const node = dnsSubdomain(ctx, b.node, 'node');
  if (!node) fail(ctx, 'node', 'required');
  string(ctx, b.pool, 'pool');
}

/** A slim BGPPeer back in its API form, to be checked by its converter. */
function rawPeer(p: BGPPeer): unknown {
  const spec: Record<string, unknown> = { node: p.node, nodeSelector: p.nodeSelector, peerSelector: p.peerSelector, sourceAddress: p.sourceAddress };
  if (p.peerIP !== undefined && p.peerIP !== '') spec.peerIP = p.peerIP;
  if (!p.peerSelector) spec.asNumber = p.asNumber;
  if (p.port) spec.port = p.port;
  for (const f of ['holdTime', 'keepaliveTime'] as const) if (p[f] !== undefined) spec[f] = typeof p[f] === 'number' ? `${p[f]}s` : p[f];
  if (p.gracefulRestart !== undefined) spec.gracefulRestart = p.gracefulRestart;
  if (p.nextHopSelf !== undefined) spec.nextHopSelf = p.nextHopSelf;
  if (p.password) spec.password = { secretKeyRef: { name: p.password.secretName, key: p.password.key } };
  return { metadata: { name: p.meta.name }, spec };
}
