// Which node each pod prefix belongs to, computed from the store alone (pure,
// so it is tested with tables through planRoutes): each node's IPAMBlocks —
// or, in a cluster without netlet blocks, each node's spec.podCIDRs.

import { familyOf } from '../base/family.ts';
import type { IPAMBlock, Node } from '../k8s/objects.ts';
import { peerOfNode } from './peer.ts';
import type { Peer } from './peer.ts';
import { byPrefixThenNode } from './route-source.ts';
import type { RouteClaim, SourceClaims } from './route-source.ts';

export interface StoreInput {
  nodeName: string;
  nodes: Iterable<Node>;
  blocks: Iterable<IPAMBlock>;
}

export interface StoreClaims extends SourceClaims {
  /** Where the claimed prefixes came from. */
  basis: 'blocks' | 'podCIDRs';
  /** This node as its peers see it (their tunnels end at its tunnel addresses); absent while its Node is unknown. */
  self?: Peer;
}

/**
 * Block claims win when the cluster has any: with netlet's block IPAM the
 * controller manager's podCIDRs (if it allocates them at all) say nothing
 * about where pods are, and routing them too would send part of a pool to
 * the wrong node. A cluster with no IPAMBlock objects uses podCIDRs (the
 * flannel/kube-router model, netlet-cni in podCIDR mode).
 */
export function claimsFromStore(input: StoreInput): StoreClaims {
  const nodes = new Map<string, Node>();
  for (const n of input.nodes) nodes.set(n.meta.name, n);
  const blocks = [...input.blocks];
  const basis: StoreClaims['basis'] = blocks.length > 0 ? 'blocks' : 'podCIDRs';

  const prefixes: Array<{ dst: string; node: string }> = [];
  if (basis === 'blocks') {
    for (const b of blocks) prefixes.push({ dst: b.cidr, node: b.node });
  } else {
    for (const n of nodes.values()) for (const c of n.podCIDRs) prefixes.push({ dst: c, node: n.meta.name });
  }
  // Deterministic output, and a deterministic winner when two nodes claim one prefix (a podCIDR misconfiguration).
  prefixes.sort(byPrefixThenNode);

  const skipped: StoreClaims['skipped'] = [];
  const seen = new Map<string, string>();
  const owned: Array<{ dst: string; node: string; family: 4 | 6 }> = [];
  for (const { dst, node } of prefixes) {
    const first = seen.get(dst);
    if (first !== undefined) {
      skipped.push({ dst, node, reason: `also claimed by node ${first}` });
      continue;
    }
    seen.set(dst, node);
    const family = familyOf(dst);
    if (family === 0) {
      skipped.push({ dst, node, reason: `${dst} is not a CIDR` });
      continue;
    }
    owned.push({ dst, node, family });
  }

  // A peer is made once all its prefixes are known: its tunnel address comes from them.
  const prefixesOf = new Map<string, string[]>();
  for (const o of owned) prefixesOf.set(o.node, [...(prefixesOf.get(o.node) ?? []), o.dst]);
  const peers = new Map<string, Peer>();
  const peerOf = (n: Node): Peer => {
    let p = peers.get(n.meta.name);
    if (!p) peers.set(n.meta.name, (p = peerOfNode(n, prefixesOf.get(n.meta.name))));
    return p;
  };

  const claims: RouteClaim[] = [];
  for (const { dst, node, family } of owned) {
    if (node === input.nodeName) {
      claims.push({ dst, family, node });
      continue;
    }
    const owner = nodes.get(node);
    if (!owner) {
      skipped.push({ dst, node, reason: `node ${node} is not known` });
      continue;
    }
    claims.push({ dst, family, node, peer: peerOf(owner) });
  }
  const me = nodes.get(input.nodeName);
  return { claims, skipped, basis, ...(me ? { self: peerOf(me) } : {}) };
}
