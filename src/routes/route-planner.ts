// The routes this node should have, from claims (pure, so it is tested with
// tables): a blackhole for each of this node's own prefixes, and the mode's
// route to each other node's prefix. planRoutes is the store's plan alone;
// planFromSources merges every source first (merge-claims.ts).

import { mergeClaims } from './merge-claims.ts';
import { directMode } from './modes.ts';
import type { RouteMode } from './modes.ts';
import type { Peer } from './peer.ts';
import { byPrefixThenNode } from './route-source.ts';
import type { RouteClaim, RouteSource, SkippedPrefix } from './route-source.ts';
import { BLACKHOLE_METRIC } from './route-table.ts';
import type { NodeRoute } from './route-table.ts';
import { claimsFromStore } from './store-claims.ts';
import type { StoreClaims, StoreInput } from './store-claims.ts';

export interface RoutePlan {
  routes: NodeRoute[];
  /** Why a prefix got no route (no address of its family, owner unknown, duplicate, lost to another source). */
  skipped: SkippedPrefix[];
  /** The peers the routes go to, once each: what a tunnel mode keeps neighbour and FDB entries for. */
  peers: Peer[];
}

/** Claims (one source's, or merged ones naming their source) and what was skipped before routing them. */
export interface ClaimsToRoute {
  claims: ReadonlyArray<RouteClaim & { source?: string }>;
  skipped: readonly SkippedPrefix[];
}

/**
 * Routes for claims through `mode`. A peer named by several claims is listed
 * once, as its first claim describes it (merged claims come best source
 * first). `skipped` (the claims' own skips and the mode's) comes out in
 * prefix order, so an unchanged plan reports the same way twice.
 */
export function routesFor(input: ClaimsToRoute, mode: RouteMode): RoutePlan {
  const routes: NodeRoute[] = [];
  const skipped = [...input.skipped];
  const peers = new Map<string, Peer>();
  for (const claim of input.claims) {
    const { dst, family, node, peer, source } = claim;
    if (!peer) {
      routes.push({ dst, family, type: 'blackhole', metric: BLACKHOLE_METRIC });
      continue;
    }
    const routeMode = claim.plain ? directMode : mode;
    const r = routeMode.routeTo(dst, family, peer);
    if ('skip' in r) {
      skipped.push(source === undefined ? { dst, node, reason: r.skip } : { dst, node, reason: r.skip, source });
      continue;
    }
    const route = withEqualPaths(r, claim.alsoVia ?? [], routeMode);
    routes.push(claim.protocol === undefined ? route : { ...route, protocol: claim.protocol });
    // A plain claim's peer ends no tunnel: the mode keeps no entries for it.
    if (!claim.plain && !peers.has(peer.name)) peers.set(peer.name, peer);
  }
  return { routes, skipped: skipped.sort(byPrefixThenNode), peers: [...peers.values()] };
}

/**
 * An ECMP route: `r`'s gateway and those of the equal peers, when each is a
 * plain gateway route (no device); otherwise `r` alone, as a tunnel route
 * names one peer's device address and cannot be merged.
 */
function withEqualPaths(r: NodeRoute, equals: readonly Peer[], mode: RouteMode): NodeRoute {
  if (!equals.length || r.type !== 'unicast' || !r.gateway || r.dev) return r;
  const gateways = new Set([r.gateway]);
  for (const p of equals) {
    const e = mode.routeTo(r.dst, r.family, p);
    if ('skip' in e || e.type !== 'unicast' || !e.gateway || e.dev) return r;
    gateways.add(e.gateway);
  }
  if (gateways.size < 2) return r;
  const sorted = [...gateways].sort();
  return { ...r, gateway: sorted[0], gateways: sorted };
}

/** The store's plan alone: its claims (store-claims.ts) through `mode`. */
export function planRoutes(input: StoreInput, mode: RouteMode): RoutePlan & { source: StoreClaims['basis'] } {
  const claims = claimsFromStore(input);
  return { ...routesFor(claims, mode), source: claims.basis };
}

/** What every source claims now, merged (conflicts go to the better source) and routed through `mode`. */
export function planFromSources(sources: readonly RouteSource[], mode: RouteMode): RoutePlan {
  return routesFor(mergeClaims(sources.map((s) => ({ source: s, ...s.claims() }))), mode);
}
