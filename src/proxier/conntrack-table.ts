// The conntrack table as the proxier needs it: delete the UDP entries that
// match a filter. The real implementation speaks ctnetlink
// (conntrack-netlink.ts); FakeConntrackTable records what was asked for the
// unit tests.

import type { Family } from './plan.ts';

/**
 * Matches conntrack entries of one L4 protocol. Every field given must match;
 * `origDst`/`origDstPort` are the original direction's destination (the
 * service IP and port, or the NodePort), `replySrc` the reply direction's
 * source, which after DNAT is the endpoint.
 */
export interface ConntrackFilter {
  protocol: 'udp' | 'tcp' | 'sctp';
  origDst?: string;
  origDstPort?: number;
  replySrc?: string;
}

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
