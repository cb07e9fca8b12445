// Standalone block claims (the demo, edge nodes without an API server): which
// node owns which block is kept in one JSON file, changed under its own lock
// and replaced atomically, with the same guarantees as the Kubernetes claims
// as long as every node that shares the file shares the machine (the demo's
// "nodes" are namespaces on one host).

import { dirname } from 'node:path';
import { NetletError } from '../base/errors.ts';
import { ensureDir, readFileIfExists, writeFileAtomic } from './atomic-file.ts';
import type { BlockClaims, ClaimedBlock } from './claims.ts';
import { withLock } from './lock.ts';
import { poolBlocks } from './pool.ts';
import type { Pool } from './pool.ts';

interface ClaimsFile {
  version: 1;
  /** Block CIDR → owner. */
  blocks: Record<string, { node: string; pool: string }>;
}

export class LocalFileClaims implements BlockClaims {
  readonly kind = 'local-file';
  readonly fixed = false;
  readonly file: string;
  readonly #node: string;
  readonly #lockTimeoutMs: number;

  constructor(file: string, node: string, lockTimeoutMs: number) {
    this.file = file;
    this.#node = node;
    this.#lockTimeoutMs = lockTimeoutMs;
  }

  async owned(): Promise<ClaimedBlock[]> {
    const doc = this.#read();
    return Object.entries(doc.blocks)
      .filter(([, v]) => v.node === this.#node)
      .map(([cidr, v]) => ({ cidr, pool: v.pool }));
  }

  claim(pools: Pool[]): Promise<ClaimedBlock | null> {
    return this.#update((doc) => {
      for (const pool of pools) {
        for (const cidr of poolBlocks(pool)) {
          if (doc.blocks[cidr]) continue;
          doc.blocks[cidr] = { node: this.#node, pool: pool.name };
          return { value: { cidr, pool: pool.name }, changed: true };
        }
      }
      return { value: null, changed: false };
    });
  }

  reclaim(block: ClaimedBlock): Promise<'ours' | 'claimed' | 'taken'> {
    return this.#update((doc) => {
      const owner = doc.blocks[block.cidr];
      if (owner) return { value: owner.node === this.#node ? 'ours' : 'taken', changed: false };
      doc.blocks[block.cidr] = { node: this.#node, pool: block.pool };
      return { value: 'claimed', changed: true };
    });
  }

  release(block: ClaimedBlock): Promise<boolean> {
    return this.#update((doc) => {
      if (doc.blocks[block.cidr]?.node !== this.#node) return { value: false, changed: false };
      delete doc.blocks[block.cidr];
      return { value: true, changed: true };
    });
  }

  /** Every claim in the file, for tests and `netlet` diagnostics. */
  all(): Array<{ cidr: string; node: string; pool: string }> {
    return Object.entries(this.#read().blocks).map(([cidr, v]) => ({ cidr, ...v }));
  }

  async #update<T>(op: (doc: ClaimsFile) => { value: T; changed: boolean }): Promise<T> {
    ensureDir(dirname(this.file));
    return withLock(`${this.file}.lock`, this.#lockTimeoutMs, async () => {
      const doc = this.#read();
      const r = op(doc);
      if (r.changed) writeFileAtomic(this.file, JSON.stringify(doc));
      return r.value;
    });
  }

  #read(): ClaimsFile {
    const text = readFileIfExists(this.file);
    if (text === undefined) return { version: 1, blocks: {} };
    try {
      const doc = JSON.parse(text) as ClaimsFile;
      if (!doc || typeof doc.blocks !== 'object' || doc.blocks === null) throw new Error('no "blocks" mapping');
      return doc;
    } catch (err) {
      throw new NetletError('ERR_IPAM_STATE', `block claims ${this.file}: ${(err as Error).message} (left untouched)`);
    }
  }
}
