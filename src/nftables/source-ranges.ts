// loadBalancerSourceRanges as elements of one interval set: nft refuses
// overlapping intervals in a set (and auto-merge does not work on
// concatenations), so ranges inside another range of the list are left out:
// they admit nothing the wider one does not.

import { CidrError, cidrsOverlap, formatCidr, parseCidr } from '../ipam/cidr.ts';
import type { Cidr } from '../ipam/cidr.ts';
import type { Family } from '../proxier/plan.ts';

/** The outermost of `ranges` (CIDRs or single addresses of `family`), normalised, in their first order; others are dropped. */
export function outermostRanges(ranges: readonly string[], family: Family): string[] {
  const parsed: Cidr[] = [];
  for (const r of ranges) {
    const text = r.includes('/') ? r : `${r}/${family === 6 ? 128 : 32}`;
    let c: Cidr;
    try {
      c = parseCidr(text, false);
    } catch (err) {
      if (err instanceof CidrError) continue; // the plan builder keeps only valid ranges; nothing to admit
      throw err;
    }
    if (c.family !== family) continue;
    parsed.push(c);
  }
  // Two CIDRs overlap only when one holds the other: keep the shorter prefix.
  const kept = parsed.filter((c, i) => !parsed.some((o, j) => j !== i && cidrsOverlap(c, o) && (o.prefix < c.prefix || (o.prefix === c.prefix && j < i))));
  return kept.map(formatCidr);
}
