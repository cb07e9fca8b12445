// v1 Node → slim Node: pod CIDRs, addresses by type, zone, readiness, labels.

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

  return {
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
}
