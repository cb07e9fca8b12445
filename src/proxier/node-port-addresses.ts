// nodePortAddresses as kube-proxy reads it: a list of CIDRs (and the word
// "primary", this node's primary IPs from its Node object); NodePorts are
// accepted only on local addresses inside them. Empty means every address.

import { networkInterfaces } from 'node:os';
import IPCIDR from 'ip-cidr';
import type { Node } from '../k8s/objects.ts';
import { ConfigError } from '../base/errors.ts';
import { familyOf } from '../base/family.ts';
import { ofFamily } from './ip-family.ts';
import { primaryNodeIP } from './node-ip.ts';
import type { Family } from './plan.ts';

/** This host's (this namespace's) interface addresses. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.includes('%')) out.push(a.address);
  }
  return out;
}

/** Checks the config once, so a typo is a clear error at start rather than a silent no-NodePort node. */
export function validateNodePortAddresses(entries: readonly string[]): void {
  for (const e of entries) {
    if (e === 'primary') continue;
    if (!e.includes('/') || !IPCIDR.isValidCIDR(e)) {
      throw new ConfigError('proxy.nodePortAddresses', `${JSON.stringify(e)} is neither a CIDR nor "primary"`);
    }
  }
}

/**
 * The addresses of `family` that accept NodePorts. [] means all; when the
 * config names CIDRs that match no local address the result is also [], so
 * the caller warns (the seam cannot express "none").
 */
export function nodePortAddressesFor(
  family: Family,
  entries: readonly string[],
  node: Node | undefined,
  addresses: readonly string[] = localAddresses(),
): string[] {
  const cidrs = entries.filter((e) => e !== 'primary' && familyOf(e) === family);
  const wantPrimary = entries.includes('primary');
  if (cidrs.length === 0 && !wantPrimary) return [];
  const out = new Set<string>();
  for (const cidr of cidrs) {
    const c = new IPCIDR(cidr);
    for (const a of ofFamily(addresses, family)) if (c.contains(a)) out.add(a);
  }
  if (wantPrimary && node) {
    const primary = primaryNodeIP(node, family);
    if (primary) out.add(primary);
  }
  return [...out].sort();
}
