// v1 Pod → slim Pod: what DNS (pod records, hostname/subdomain) and the
// proxier (local endpoints, hostNetwork) need.

import type { Pod } from '../objects.ts';
import { bool, dnsLabel, dnsSubdomain, fail, ip, list, meta, record, string } from './fields.ts';
import type { Ctx, Raw } from './fields.ts';

export function convertPod(raw: unknown): Pod {
  const { meta: m, ctx } = meta('Pod', raw, true);
  const spec = record(ctx, (raw as Raw).spec, 'spec');
  const status = record(ctx, (raw as Raw).status, 'status');
  return {
    kind: 'Pod',
    meta: m,
    nodeName: dnsSubdomain(ctx, spec?.nodeName, 'spec.nodeName'),
    podIPs: podIPsOf(ctx, status),
    hostNetwork: bool(ctx, spec?.hostNetwork, 'spec.hostNetwork', false),
    phase: string(ctx, status?.phase, 'status.phase'),
    hostname: dnsLabel(ctx, spec?.hostname, 'spec.hostname'),
    subdomain: dnsLabel(ctx, spec?.subdomain, 'spec.subdomain'),
  };
}

/**
 * status.podIPs (dual-stack) supersedes status.podIP; its first entry equals
 * podIP. The list is sized up front, as kept lists are
 * (docs/design/v8-heap.md#arrays-sized-to-their-length).
 */
export function podIPsOf(ctx: Ctx, status: Raw | undefined): string[] {
  const entries = list(ctx, status?.podIPs, 'status.podIPs');
  if (entries.length > 0) {
    const podIPs = new Array<string>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = record(ctx, entries[i], `status.podIPs[${i}]`);
      if (!e) fail(ctx, `status.podIPs[${i}]`, 'expected a mapping, got null');
      podIPs[i] = ip(ctx, e.ip, `status.podIPs[${i}].ip`);
    }
    return podIPs;
  }
  const single = string(ctx, status?.podIP, 'status.podIP');
  return single ? [ip(ctx, single, 'status.podIP')] : [];
}
