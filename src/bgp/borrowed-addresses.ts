// Host prefixes for borrowed addresses (Calico announces them the same way):
// a pod of this node whose address lies in another node's block is reached
// by nobody through that block's route, which leads to the block's owner.
// The borrowing node announces the address alone (/32, /128); everywhere
// else the longest match sends it here, past the owner's aggregate (and
// past the owner's own blackhole for its block).
//
// netlet's IPAM never borrows (strict affinity, ipam/allocator.ts), but a
// cluster migrated from Calico's IPAM, a block handed to another node while
// its pods live on, or an address chosen by hand has such pods.

import { familyOf } from '../base/family.ts';
import type { IPAMBlock, Pod } from '../k8s/objects.ts';
import { insideSubnet } from '../routes/encapsulation.ts';

/** The /32 and /128 prefixes of `nodeName`'s pods whose addresses lie in another node's block, sorted. */
export function borrowedPrefixes(nodeName: string, pods: Iterable<Pod>, blocks: Iterable<IPAMBlock>): string[] {
  const own: string[] = [];
  const others: string[] = [];
  for (const b of blocks) (b.node === nodeName ? own : others).push(b.cidr);
  if (others.length === 0) return [];
  const out = new Set<string>();
  for (const pod of pods) {
    // A finished pod's address is free again (the CNI DEL released it).
    if (pod.nodeName !== nodeName || pod.hostNetwork || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
    for (const ip of pod.podIPs) {
      const family = familyOf(ip);
      if (!family) continue;
      // Inside one of this node's blocks too (overlapping blocks): the aggregate already covers it.
      if (own.some((c) => insideSubnet(ip, c))) continue;
      if (others.some((c) => insideSubnet(ip, c))) out.add(`${ip}/${family === 4 ? 32 : 128}`);
    }
  }
  return [...out].sort();
}
