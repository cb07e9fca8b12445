// The node's allocations on local disk: one JSON document per node name in
// the data directory, changed only under the directory's lock and replaced
// atomically. A run killed at any point leaves either the old or the new
// document; an address recorded by a run that died before printing its result
// is a leak (held by no pod), which CNI GC reclaims, never a duplicate.

import { join } from 'node:path';
import { NetletError } from '../base/errors.ts';
import { ensureDir, readFileIfExists, writeFileAtomic, writtenBeforeBoot } from './atomic-file.ts';
import { withLock } from './lock.ts';
import { IpamState } from './state.ts';
import type { StateRecord } from './state.ts';
import type { OperationResult } from './allocator.ts';

export const DEFAULT_DATA_DIR = '/var/lib/netlet/ipam';

export class IpamStateError extends NetletError {
  constructor(file: string, reason: string) {
    super('ERR_IPAM_STATE', `IPAM state ${file}: ${reason} (left untouched; move it away to start over)`);
  }
}

export class LocalStore {
  readonly dir: string;
  readonly node: string;
  readonly file: string;
  readonly #lockTimeoutMs: number;

  constructor(dir: string, node: string, lockTimeoutMs: number) {
    this.dir = dir;
    this.node = node;
    // Node names are DNS-1123 subdomains, safe in a file name; several nodes may share a directory (the demo).
    this.file = join(dir, `allocations-${node.replace(/[^a-z0-9.-]/gi, '_')}.json`);
    this.#lockTimeoutMs = lockTimeoutMs;
  }

  /** Runs one operation on the state under the lock and persists it if it changed. */
  async update<T>(op: (state: IpamState) => Promise<OperationResult<T>> | OperationResult<T>): Promise<T> {
    ensureDir(this.dir);
    return withLock(join(this.dir, '.lock'), this.#lockTimeoutMs, async () => {
      const state = this.#load();
      const result = await op(state);
      // Not durable (no flush): see atomic-file.ts for why a power loss may lose this file's last writes.
      if (result.changed) writeFileAtomic(this.file, JSON.stringify(state.toRecord()), { durable: false });
      return result.value;
    });
  }

  /** A consistent snapshot without the lock: writes are atomic renames. */
  read(): IpamState {
    return this.#load();
  }

  /**
   * A file torn before this boot is what a power loss leaves of a write
   * that was not flushed (atomic-file.ts). Every pod it described died with
   * the boot, so the node starts over with an empty state (its blocks come
   * back from the claims store on the next ADD). A torn file written since
   * the boot is not explained by a crash (renames are atomic) and stays an error.
   */
  #tornByPowerLoss(): boolean {
    return writtenBeforeBoot(this.file);
  }

  #load(): IpamState {
    const text = readFileIfExists(this.file);
    if (text === undefined) return new IpamState(this.node);
    let record: StateRecord;
    try {
      record = JSON.parse(text) as StateRecord;
    } catch (err) {
      if (this.#tornByPowerLoss()) return new IpamState(this.node);
      throw new IpamStateError(this.file, `not valid JSON: ${(err as Error).message}`);
    }
    if (!record || typeof record !== 'object' || !Array.isArray(record.blocks)) {
      if (this.#tornByPowerLoss()) return new IpamState(this.node);
      throw new IpamStateError(this.file, 'not an IPAM state document');
    }
    try {
      return IpamState.fromRecord(record);
    } catch (err) {
      throw new IpamStateError(this.file, (err as Error).message);
    }
  }
}
