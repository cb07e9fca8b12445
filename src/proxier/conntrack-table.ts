// The conntrack table as the proxier needs it: delete the UDP entries that
// match a filter. The real implementation speaks ctnetlink
// (netlink/conntrack.ts); FakeConntrackTable records what was asked for the
// unit tests.

import type { ConntrackFilter } from '../netlink/conntrack.ts';
import type { Family } from './plan.ts';

export type { ConntrackFilter };

export interface ConntrackTable {
  /** Deletes every entry of `family` matching any of `filters`; returns how many went. */
  deleteMatching(family: Family, filters: readonly ConntrackFilter[]): Promise<number>;
  close(): void;
}

export function describeFilter(f: ConntrackFilter): string {
  const parts: string[] = [f.protocol];
  if (f.origDst) parts.push(`orig-dst=${f.origDst}`);
  if (f.origDstPort) parts.push(`orig-dport=${f.origDstPort}`);
  if (f.replySrc) parts.push(`reply-src=${f.replySrc}`);
  return parts.join(' ');
}

export class FakeConntrackTable implements ConntrackTable {
  readonly calls: { family: Family; filters: ConntrackFilter[] }[] = [];
  /** Makes the next call throw, to test that failures are contained. */
  failNext: Error | undefined;

  async deleteMatching(family: Family, filters: readonly ConntrackFilter[]): Promise<number> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    this.calls.push({ family, filters: [...filters] });
    return 0;
  }

  close(): void {}
}
