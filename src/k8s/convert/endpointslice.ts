// discovery.k8s.io/v1 EndpointSlice → slim EndpointSlice. This is the hot
// path of the reflector (every pod change produces one), so it reads each
// field once and keeps loops index-based.

import type { Endpoint, EndpointPort, EndpointSlice } from '../objects.ts';
import { bool, describe, dnsLabel, dnsSubdomain, fail, ip, labelOf, list, mapValue, meta, optionalString, port, protocol, record, rethrowWithin, sized, string } from './fields.ts';
import type { Ctx, Raw } from './fields.ts';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;
type AddressType = (typeof ADDRESS_TYPES)[number];

export function convertEndpointSlice(raw: unknown): EndpointSlice {
  const { meta: m, ctx, labels, annotations } = meta('EndpointSlice', raw, true);
  const r = raw as Raw;

  const addressType = r.addressType;
  if (addressType === undefined || addressType === null) fail(ctx, 'addressType', 'required');
  if (!(ADDRESS_TYPES as readonly unknown[]).includes(addressType)) {
    fail(ctx, 'addressType', `must be one of ${ADDRESS_TYPES.join(', ')}, got ${describe(addressType)}`);
  }
  const type = addressType as AddressType;
  const family = type === 'IPv4' ? 4 : type === 'IPv6' ? 6 : 0;

  const rawPorts = list(ctx, r.ports, 'ports');
  const ports: EndpointPort[] = [];
  for (let i = 0; i < rawPorts.length; i++) {
    const p = endpointPort(ctx, rawPorts[i], `ports[${i}]`);
    if (p) ports.push(p);
  }

  const rawEndpoints = list(ctx, r.endpoints, 'endpoints');
  const endpoints: Endpoint[] = new Array(rawEndpoints.length);
  for (let i = 0; i < rawEndpoints.length; i++) {
    try {
      endpoints[i] = endpoint(ctx, rawEndpoints[i], family, m.namespace);
    } catch (err) {
      rethrowWithin(ctx, `endpoints[${i}]`, err);
    }
  }

  const slice: EndpointSlice = {
    kind: 'EndpointSlice',
    meta: m,
    serviceName: labelOf(ctx, labels, 'kubernetes.io/service-name'),
    addressType: type,
    ports: sized(ports),
    endpoints,
    triggerTimeMs: triggerTime(mapValue(ctx, annotations, 'metadata.annotations', 'endpoints.kubernetes.io/last-change-trigger-time')),
  };
  // MCS API slices (KEP-1645) name their ServiceImport and source cluster; ordinary slices carry neither field.
  const importName = labelOf(ctx, labels, 'multicluster.kubernetes.io/service-name');
  if (importName) {
    slice.importName = importName;
    // The cluster id becomes a DNS label of the endpoint's clusterset name (KEP-2149 makes it one).
    slice.sourceCluster = dnsLabel(ctx, labelOf(ctx, labels, 'multicluster.kubernetes.io/source-cluster'), 'metadata.labels.multicluster.kubernetes.io/source-cluster');
  }
  return slice;
}

/**
 * The API allows a port without a number ("all ports"), which kube-proxy
 * cannot program and skips; so do we (returns undefined). The slim
 * EndpointPort has the same fields: slim.ts checks a snapshot's with this too.
 */
export function endpointPort(ctx: Ctx, v: unknown, field: string): EndpointPort | undefined {
  const p = record(ctx, v, field);
  if (!p) return fail(ctx, field, 'expected a mapping, got null');
  if (p.port === undefined || p.port === null) return undefined;
  const out: EndpointPort = {
    name: dnsLabel(ctx, p.name, `${field}.name`),
    protocol: protocol(ctx, p.protocol, `${field}.protocol`),
    port: port(ctx, p.port, `${field}.port`),
  };
  const appProtocol = optionalString(ctx, p.appProtocol, `${field}.appProtocol`);
  if (appProtocol) out.appProtocol = appProtocol;
  return out;
}

/**
 * One endpoint. Its field names are relative to the endpoint (the caller
 * adds "endpoints[i]" to a failure's): built per endpoint, the paths cost as
 * much as the checks themselves. Names that repeat across a slice's
 * endpoints (node names, the namespace) are checked once per slice.
 */
function endpoint(ctx: Ctx, v: unknown, family: 0 | 4 | 6, sliceNamespace: string): Endpoint {
  const e = record(ctx, v, '');
  if (!e) return fail(ctx, '', 'expected a mapping, got null');

  const rawAddresses = list(ctx, e.addresses, 'addresses');
  if (rawAddresses.length === 0) fail(ctx, 'addresses', 'at least one address is required');
  const addresses: string[] = new Array(rawAddresses.length);
  for (let i = 0; i < rawAddresses.length; i++) addresses[i] = address(ctx, rawAddresses[i], i === 0 ? 'addresses[0]' : `addresses[${i}]`, family);

  // EndpointConditions (discovery/v1): an unknown ready state counts as ready,
  // serving defaults to ready, terminating to false.
  const conditions = record(ctx, e.conditions, 'conditions');
  const ready = bool(ctx, conditions?.ready, 'conditions.ready', true);
  const serving = bool(ctx, conditions?.serving, 'conditions.serving', ready);
  const terminating = bool(ctx, conditions?.terminating, 'conditions.terminating', false);

  const hints = record(ctx, e.hints, 'hints');
  const forZones = list(ctx, hints?.forZones, 'hints.forZones');
  const zoneHints: string[] = new Array(forZones.length);
  for (let i = 0; i < forZones.length; i++) {
    const z = record(ctx, forZones[i], `hints.forZones[${i}]`);
    const name = string(ctx, z?.name, `hints.forZones[${i}].name`);
    if (!name) fail(ctx, `hints.forZones[${i}].name`, 'required');
    zoneHints[i] = name;
  }

  const out: Endpoint = {
    addresses,
    ready,
    serving,
    terminating,
    hostname: dnsLabel(ctx, e.hostname, 'hostname'),
    nodeName: dnsSubdomain(ctx, e.nodeName, 'nodeName'),
    zone: string(ctx, e.zone, 'zone'),
    zoneHints,
  };
  const ref = record(ctx, e.targetRef, 'targetRef');
  if (ref && ref.kind === 'Pod') {
    const name = dnsSubdomain(ctx, ref.name, 'targetRef.name');
    if (name) out.targetPod = { namespace: (ref.namespace === sliceNamespace ? sliceNamespace : dnsLabel(ctx, ref.namespace, 'targetRef.namespace')) || sliceNamespace, name };
  }
  return out;
}

/** An address of the slice's addressType; family 0 is FQDN. */
export function address(ctx: Ctx, v: unknown, field: string, family: 0 | 4 | 6): string {
  if (typeof v !== 'string' || v === '') return fail(ctx, field, `expected an address, got ${describe(v)}`);
  if (family === 0) return dnsSubdomain(ctx, v, field);
  return ip(ctx, v, field, family);
}

/**
 * RFC 3339 → ms since epoch. A malformed annotation only loses the
 * programming-latency metric, so it reads as 0 ("absent") instead of
 * rejecting the slice and its endpoints (kube-proxy also just skips it).
 */
function triggerTime(value: string): number {
  if (!value) return 0;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : 0;
}
