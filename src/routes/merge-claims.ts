// The one set of prefixes to route, from every source's claims.
//
// The rule, for two claims of one destination (same family and the exact
// same CIDR): the source with the lower priority wins, a tie goes to the
// source whose name sorts first, and within one source its first claim
// wins. The losing claim is reported as skipped (naming the winner) and gets
// no route, so the kernel never sees two netlet routes fighting over a
// prefix. Overlapping but different prefixes (a /24 and a /26 inside it) are
// not a conflict: both are routed and the kernel's longest match decides.

import { NetletError } from '../base/errors.ts';
import type { RouteClaim, SkippedPrefix, SourceClaims } from './route-source.ts';

export interface SourcedClaims extends SourceClaims {
  source: { name: string; priority: number };
}

export interface MergedClaim extends RouteClaim {
  /** The name of the source that won this destination. */
  source: string;
}

export interface MergedClaims {
  /** The winners, best source first and in each source's own order (so a peer named by two sources is described by the better one). */
  claims: MergedClaim[];
  /** Every source's own skips, then the claims that lost a conflict. */
  skipped: SkippedPrefix[];
}

/** Source names must be unique: reports and conflict records name sources. */
export function assertUniqueSourceNames(sources: ReadonlyArray<{ name: string }>): void {
  const seen = new Set<string>();
  for (const { name } of sources) {
    if (seen.has(name)) throw new NetletError('ERR_ROUTE_SOURCE_NAME', `routes: two route sources are named ${JSON.stringify(name)}`);
    seen.add(name);
  }
}

export function mergeClaims(inputs: readonly SourcedClaims[]): MergedClaims {
  assertUniqueSourceNames(inputs.map((i) => i.source));
  // Best first: lower priority, then name.
  const ranked = [...inputs].sort((a, b) => a.source.priority - b.source.priority || (a.source.name < b.source.name ? -1 : a.source.name > b.source.name ? 1 : 0));
  const claims: MergedClaim[] = [];
  const skipped: SkippedPrefix[] = [];
  const conflicts: SkippedPrefix[] = [];
  const winners = new Map<string, MergedClaim>();
  for (const input of ranked) {
    const { name } = input.source;
    for (const s of input.skipped) skipped.push({ ...s, source: s.source ?? name });
    for (const claim of input.claims) {
      const key = `${claim.family}|${claim.dst}`;
      const winner = winners.get(key);
      if (winner) {
        const by = winner.source === name ? 'an earlier claim of the same source' : `source ${winner.source}, which ranks first`;
        conflicts.push({ dst: claim.dst, node: claim.node, source: name, reason: `also claimed by ${by} (for node ${winner.node})` });
        continue;
      }
      const merged = { ...claim, source: name };
      winners.set(key, merged);
      claims.push(merged);
    }
  }
  return { claims, skipped: [...skipped, ...conflicts] };
}
