// Block claims held in memory: for one process that owns a whole pool (the
// in-process benchmark, unit tests of the allocator). Several nodes may share
// one `MemoryClaimsTable`, which then plays the role of the cluster's store.

import type { BlockClaims, ClaimedBlock } from './claims.ts';
import { poolBlocks } from './pool.ts';
import type { Pool } from './pool.ts';

export class MemoryClaimsTable {
  /** Block CIDR → owner node and pool. */
  readonly blocks = new Map<string, { node: string; pool: string }>();
}

export class MemoryClaims implements BlockClaims {
  readonly kind = 'memory';
  readonly fixed = false;
  readonly table: MemoryClaimsTable;
  readonly #node: string;
  /** Per pool, the index below which every block is known taken: claiming stays O(1) as a pool fills in order. */
  readonly #scanFrom = new Map<string, bigint>();

  constructor(node: string, table = new MemoryClaimsTable()) {
    this.#node = node;
    this.table = table;
  }

  async owned(): Promise<ClaimedBlock[]> {
    const out: ClaimedBlock[] = [];
    for (const [cidr, v] of this.table.blocks) if (v.node === this.#node) out.push({ cidr, pool: v.pool });
    return out;
  }

  async claim(pools: Pool[]): Promise<ClaimedBlock | null> {
    for (const pool of pools) {
      let index = this.#scanFrom.get(pool.name) ?? 0n;
      for (const cidr of poolBlocks(pool, index)) {
        index++;
        if (this.table.blocks.has(cidr)) continue;
        this.table.blocks.set(cidr, { node: this.#node, pool: pool.name });
        this.#scanFrom.set(pool.name, index);
        return { cidr, pool: pool.name };
      }
    }
    return null;
  }

  async reclaim(block: ClaimedBlock): Promise<'ours' | 'claimed' | 'taken'> {
    const owner = this.table.blocks.get(block.cidr);
    if (owner) return owner.node === this.#node ? 'ours' : 'taken';
    this.table.blocks.set(block.cidr, { node: this.#node, pool: block.pool });
    return 'claimed';
  }

  async release(block: ClaimedBlock): Promise<boolean> {
    if (this.table.blocks.get(block.cidr)?.node !== this.#node) return false;
    this.table.blocks.delete(block.cidr);
    this.#scanFrom.clear(); // the freed block may lie below the scan position
    return true;
  }
}
