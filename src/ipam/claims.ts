// Where a node's ownership of blocks is recorded. The allocator only asks for
// a new block when the node's blocks are full, so the claims store (a shared
// local file, the Kubernetes API, or the node's fixed podCIDRs) is off the
// path of most ADDs.

import type { Pool } from './pool.ts';

export interface ClaimedBlock {
  cidr: string;
  /** Name of the pool it belongs to. */
  pool: string;
}

export interface BlockClaims {
  /** For logs and errors: "local-file", "kubernetes", "podCIDR". */
  readonly kind: string;
  /**
   * True when the node's blocks are given rather than claimed (podCIDR mode):
   * nothing to claim, nothing to release.
   */
  readonly fixed: boolean;
  /** The blocks this node owns in the store (to adopt claims a crashed run made but never recorded). */
  owned(): Promise<ClaimedBlock[]>;
  /**
   * Claims one free block from the first of `pools` that has one, so that no
   * other node can own it; null when every block of those pools is taken.
   */
  claim(pools: Pool[]): Promise<ClaimedBlock | null>;
  /**
   * Makes sure this node owns exactly this block (after someone deleted its
   * claim): 'ours' when it already does, 'claimed' when it was free and is
   * now ours again, 'taken' when another node owns it.
   */
  reclaim(block: ClaimedBlock): Promise<'ours' | 'claimed' | 'taken'>;
  /** Gives an empty block back; false when it was not this node's (nothing done). */
  release(block: ClaimedBlock): Promise<boolean>;
  /** Drops connections (the API client's keep-alive sockets), so a plugin process can exit at once. */
  close?(): Promise<void>;
}
