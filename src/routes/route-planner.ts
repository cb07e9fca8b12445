// The routes this node should have, computed from the store alone (pure, so
// it is tested with tables): for each other node's block — or, in a cluster
// without netlet blocks, each other node's spec.podCIDRs — a route to that
// node, and a blackhole for each of this node's own blocks.

import { familyOf } from '../base/family.ts';
import type { IPAMBlock, Node } from '../k8s/objects.ts';
import type { RouteMode } from './modes.ts';
import { BLACKHOLE_METRIC } from './route-table.ts';
import type { Family, NodeRoute } from './route-table.ts';

export interface PlanInput {
  nodeName: string;
  nodes: Iterable<Node>;
  blocks: Iterable<IPAMBlock>;
}

export interface RoutePlan {
  routes: NodeRoute[];
  /** Why a node's block or podCIDR got no route (no InternalIP of its family, owner unknown, duplicate). */
  skipped: Array<{ dst: string; node: string; reason: string }>;
  /** Where the routed prefixes came from. */
  source: 'blocks' | 'podCIDRs';
}

/**
 * Block claims win when the cluster has any: with netlet's block IPAM the
 * controller manager's podCIDRs (if it allocates them at all) say nothing
 * about where pods are, and routing them too would send part of a pool to
 * the wrong node. A cluster with no IPAMBlock objects uses podCIDRs (the
 * flannel/kube-router model, netlet-cni in podCIDR mode).
 */
export function planRoutes(input: PlanInput, mode: RouteMode): RoutePlan {
  const nodes = new Map<string, Node>();
  for (const n of input.nodes) nodes.set(n.meta.name, n);
  const blocks = [...input.blocks];
  const source: RoutePlan['source'] = blocks.length > 0 ? 'blocks' : 'podCIDRs';

  const prefixes: Array<{ dst: string; node: string }> = [];
  if (source === 'blocks') {
    for (const b of blocks) prefixes.push({ dst: b.cidr, node: b.node });
  } else {
    for (const n of nodes.values()) for (const c of n.podCIDRs) prefixes.push({ dst: c, node: n.meta.name });
  }
  // Deterministic output, and a deterministic winner when two nodes claim one prefix (a podCIDR misconfiguration).
  prefixes.sort((a, b) => (a.dst === b.dst ? a.node.localeCompare(b.node) : a.dst.localeCompare(b.dst)));

  const routes: NodeRoute[] = [];
  const skipped: RoutePlan['skipped'] = [];
  const seen = new Map<string, string>();
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
    if (node === input.nodeName) {
      routes.push({ dst, family, type: 'blackhole', metric: BLACKHOLE_METRIC });
      continue;
    }
    const owner = nodes.get(node);
    if (!owner) {
      skipped.push({ dst, node, reason: `node ${node} is not known` });
      continue;
    }
    const r = mode.routeTo(dst, family, owner);
    if ('skip' in r) skipped.push({ dst, node, reason: r.skip });
    else routes.push(r);
  }
  return { routes, skipped, source };
}
