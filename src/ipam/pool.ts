// An address pool: a CIDR split into equal blocks that nodes claim one at a
// time (Calico's IPPool: blockSize 26 for IPv4 and 122 for IPv6 by default).

import { cidrsOverlap, formatCidr, subnetAt, subnetCount } from './cidr.ts';
import type { Cidr, Family } from './cidr.ts';

export const DEFAULT_BLOCK_SIZE: Record<Family, number> = { 4: 26, 6: 122 };

export interface Pool {
  /** Stable name written into each claim's `spec.pool`; defaults to the CIDR. */
  name: string;
  cidr: Cidr;
  /** Prefix length of the blocks. */
  blockSize: number;
  /** A disabled pool hands out no new addresses; existing blocks keep theirs until released. */
  disabled: boolean;
}

export function poolFamily(pool: Pool): Family {
  return pool.cidr.family;
}

export function blockCount(pool: Pool): bigint {
  return subnetCount(pool.cidr, pool.blockSize);
}

/** The pool's blocks in order from index `from`, as CIDR strings; lazily, since an IPv6 pool can have 2^50 of them. */
export function* poolBlocks(pool: Pool, from = 0n): Generator<string> {
  const n = blockCount(pool);
  for (let i = from; i < n; i++) yield formatCidr(subnetAt(pool.cidr, pool.blockSize, i));
}

/** The first two pools that overlap, if any. */
export function findOverlap(pools: Pool[]): [Pool, Pool] | undefined {
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      if (cidrsOverlap(pools[i].cidr, pools[j].cidr)) return [pools[i], pools[j]];
    }
  }
  return undefined;
}
