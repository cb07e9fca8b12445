// v1 Node → slim Node: pod CIDRs, addresses by type, zone, readiness, labels.

import { VXLAN_MAC_ANNOTATION } from '../objects.ts';
import type { Node } from '../objects.ts';
import { cidr, cidrList, fail, ip, list, meta, record, sized, string, stringMap } from './fields.ts';
import type { Raw } from './fields.ts';

export function convertNode(raw: unknown): Node {
  const { meta: m, ctx } = meta('Node', raw, false);
  const spec = record(ctx, (raw as Raw).spec, 'spec');
  const status = record(ctx, (raw as Raw).status, 'status');
  const labels = stringMap(ctx, (raw as { metadata: Raw }).metadata.labels, 'metadata.labels');

  // spec.podCIDRs (dual-stack) supersedes the single spec.podCIDR; both may be set and agree.
  let podCIDRs = cidrList(ctx, spec?.podCIDRs, 'spec.podCIDRs');
  if (podCIDRs.length === 0) {
    const single = string(ctx, spec?.podCIDR, 'spec.podCIDR');
    if (single) podCIDRs = [cidr(ctx, single, 'spec.podCIDR')];
  }

  const internalIPs: string[] = [];
  const externalIPs: string[] = [];
  let hostname = '';
  const addresses = list(ctx, status?.addresses, 'status.addresses');
  for (let i = 0; i < addresses.length; i++) {
    const field = `status.addresses[${i}]`;
    const a = record(ctx, addresses[i], field);
    if (!a) fail(ctx, field, 'expected a mapping, got null');
    const type = string(ctx, a.type, `${field}.type`);
    if (type === 'InternalIP') internalIPs.push(ip(ctx, a.address, `${field}.address`));
    else if (type === 'ExternalIP') externalIPs.push(ip(ctx, a.address, `${field}.address`));
    else if (type === 'Hostname' && !hostname) hostname = string(ctx, a.address, `${field}.address`);
    // InternalDNS/ExternalDNS carry names netlet has no use for.
  }

  // NodeReady must be present and True; a missing condition means unknown, not ready.
  let ready = false;
  const conditions = list(ctx, status?.conditions, 'status.conditions');
  for (let i = 0; i < conditions.length; i++) {
    const c = record(ctx, conditions[i], `status.conditions[${i}]`);
    if (c?.type === 'Ready') ready = string(ctx, c.status, `status.conditions[${i}].status`) === 'True';
  }

  const node: Node = {
    kind: 'Node',
    meta: m,
    podCIDRs,
    internalIPs: sized(internalIPs),
    externalIPs: sized(externalIPs),
    hostname: hostname || labels['kubernetes.io/hostname'] || m.name,
    // The beta label is what clusters older than 1.17 still set.
    zone: labels['topology.kubernetes.io/zone'] || labels['failure-domain.beta.kubernetes.io/zone'] || '',
    ready,
    labels: { ...labels },
  };
  const mac = publishedMac((raw as { metadata: Raw }).metadata.annotations);
  if (mac) node.vxlanMac = mac;
  return node;
}

/**
 * A unicast MAC in the annotation, lower-cased; anything else is left out
 * rather than failing the Node: annotations are free text, and every node
 * reads a Node the same way, so a bad value means all of them fall back to
 * the same derived MAC.
 */
function publishedMac(annotations: unknown): string | undefined {
  if (!annotations || typeof annotations !== 'object') return undefined;
  const v = (annotations as Record<string, unknown>)[VXLAN_MAC_ANNOTATION];
  if (typeof v !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v)) return undefined;
  // The multicast bit of the first byte: such a MAC cannot be a device's own.
  if (parseInt(v.slice(0, 2), 16) & 1) return undefined;
  return v.toLowerCase();
}
