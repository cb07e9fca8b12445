// Allocates addresses inside the node's own blocks and claims a new block only
// when they are full (Calico's block affinity, with strict affinity: a node
// never borrows single addresses from another node's block, so every pod
// address is covered by its node's block route and no /32 routes are needed).
//
// The allocator works on an in-memory IpamState; the caller (the local store)
// loads it, runs one operation under the node's lock, and persists it.

import { Block } from './block.ts';
import type { BlockClaims, ClaimedBlock } from './claims.ts';
import type { Family } from './cidr.ts';
import { NetletError } from '../base/errors.ts';
import type { Pool } from './pool.ts';
import type { IpamState } from './state.ts';
import type { AllocatedAddress, AllocationOwner, AttachmentId } from './types.ts';
import { attachmentKey } from './block.ts';

/** No address left: every block of the family's pools is full or taken. */
export class IpamExhaustedError extends NetletError {
  readonly family: Family;

  constructor(family: Family, detail: string) {
    super('ERR_IPAM_EXHAUSTED', `no free IPv${family} address: ${detail}`);
    this.family = family;
  }
}

export interface OperationResult<T> {
  value: T;
  /** Whether the state changed and must be persisted. */
  changed: boolean;
}

export class Allocator {
  readonly #pools: Pool[];
  readonly #claims: BlockClaims;

  /** `pools` in order of preference; empty when the claims are fixed (podCIDR mode). */
  constructor(pools: Pool[], claims: BlockClaims) {
    this.#pools = pools;
    this.#claims = claims;
  }

  get claims(): BlockClaims {
    return this.#claims;
  }

  /** One address per family, reusing what the attachment already holds (ADD is idempotent). */
  async allocate(state: IpamState, owner: AllocationOwner): Promise<OperationResult<AllocatedAddress[]>> {
    let changed = false;
    if (this.#claims.fixed && state.blocks.length === 0) changed = this.#adopt(state, await this.#claims.owned()) || changed;
    const held = state.holdings(owner);
    const out: AllocatedAddress[] = [];
    for (const family of this.#families(state)) {
      const have = held.find((a) => a.family === family);
      if (have) {
        out.push(have);
        continue;
      }
      const r = await this.#allocateOne(state, family, owner);
      changed = changed || r.changed;
      out.push(r.value);
    }
    return { value: out, changed };
  }

  lookup(state: IpamState, id: AttachmentId): AllocatedAddress[] {
    return state.holdings(id);
  }

  release(state: IpamState, id: AttachmentId): OperationResult<number> {
    const n = state.release(id);
    return { value: n, changed: n > 0 };
  }

  /** Releases every attachment not in `valid` (CNI GC, cni.dev/valid-attachments). */
  garbageCollect(state: IpamState, valid: AttachmentId[]): OperationResult<number> {
    const keep = new Set(valid.map(attachmentKey));
    let released = 0;
    for (const id of state.attachments()) {
      if (!keep.has(attachmentKey(id))) released += state.release(id) > 0 ? 1 : 0;
    }
    return { value: released, changed: released > 0 };
  }

  /** Gives back the node's empty blocks (not in podCIDR mode: those are the node's for life). */
  async releaseEmptyBlocks(state: IpamState): Promise<OperationResult<string[]>> {
    if (this.#claims.fixed) return { value: [], changed: false };
    const released: string[] = [];
    for (const block of [...state.blocks]) {
      if (!block.isEmpty) continue;
      // A lost block is another node's now: only forget it. Otherwise drop it locally whatever the store
      // answers: if it was not ours any more, we must not allocate from it.
      if (!block.lost) await this.#claims.release({ cidr: block.cidrText, pool: block.pool });
      state.removeBlock(block);
      released.push(block.cidrText);
    }
    return { value: released, changed: released.length > 0 };
  }

  #families(state: IpamState): Family[] {
    const families: Family[] = [];
    const from = this.#claims.fixed ? state.blocks.map((b) => b.family) : this.#pools.filter((p) => !p.disabled).map((p) => p.cidr.family);
    for (const f of from) if (!families.includes(f)) families.push(f);
    return families;
  }

  /**
   * Checks the node's blocks against the claims store, for claims deleted
   * behind its back (by hand, or a cleanup that thought the node gone): a
   * block nobody owns is claimed again; one another node now owns is marked
   * lost, so its pods keep their addresses but no new ones come from it, and
   * it is dropped once empty. Without this the node would go on allocating
   * from a block another node may claim, and both would hand out its addresses.
   */
  async verifyBlocks(state: IpamState): Promise<OperationResult<{ reclaimed: string[]; lost: string[] }>> {
    const value = { reclaimed: [] as string[], lost: [] as string[] };
    if (this.#claims.fixed) return { value, changed: false };
    const owned = new Set((await this.#claims.owned()).map((b) => b.cidr));
    for (const block of state.blocks) {
      if (block.lost || owned.has(block.cidrText)) continue;
      if (block.isEmpty) {
        // Nothing to keep: forget it instead of claiming it again (releaseEmptyBlocks drops it).
        block.lost = true;
        value.lost.push(block.cidrText);
        continue;
      }
      const r = await this.#claims.reclaim({ cidr: block.cidrText, pool: block.pool });
      if (r === 'claimed') value.reclaimed.push(block.cidrText);
      if (r === 'taken') {
        block.lost = true;
        if (state.lastUsed.get(block.family) === block) state.lastUsed.delete(block.family);
        value.lost.push(block.cidrText);
      }
    }
    return { value, changed: value.lost.length > 0 };
  }

  /** Blocks of this family that may hand out new addresses: their pool is configured and enabled. */
  #usable(block: Block, family: Family): boolean {
    if (block.family !== family || block.lost) return false;
    if (this.#claims.fixed) return true;
    return this.#pools.some((p) => p.name === block.pool && !p.disabled);
  }

  #tryBlocks(state: IpamState, family: Family, owner: AllocationOwner): AllocatedAddress | undefined {
    // The block that served this family last is the likeliest to have room: try it before scanning them all.
    const hint = state.lastUsed.get(family);
    if (hint) {
      const got = this.#tryBlock(state, hint, family, owner);
      if (got) return got;
    }
    for (const block of state.blocks) {
      const got = this.#tryBlock(state, block, family, owner);
      if (got) return got;
    }
    return undefined;
  }

  #tryBlock(state: IpamState, block: Block, family: Family, owner: AllocationOwner): AllocatedAddress | undefined {
    if (block.isFull || !this.#usable(block, family)) return undefined;
    const offset = block.findFree();
    if (offset < 0) return undefined;
    state.lastUsed.set(family, block);
    return state.assign(block, offset, owner);
  }

  async #allocateOne(state: IpamState, family: Family, owner: AllocationOwner): Promise<OperationResult<AllocatedAddress>> {
    const hit = this.#tryBlocks(state, family, owner);
    if (hit) return { value: hit, changed: true };
    // Blocks this node claimed in a run that died before recording them.
    if (this.#adopt(state, await this.#claims.owned())) {
      const adopted = this.#tryBlocks(state, family, owner);
      if (adopted) return { value: adopted, changed: true };
    }
    if (this.#claims.fixed) {
      throw new IpamExhaustedError(family, `the node's podCIDR has no free address (${this.#claims.kind})`);
    }
    const pools = this.#pools.filter((p) => !p.disabled && p.cidr.family === family);
    if (pools.length === 0) throw new IpamExhaustedError(family, 'no enabled pool of this family');
    const claimed = await this.#claims.claim(pools);
    if (!claimed) throw new IpamExhaustedError(family, `every block of pools ${pools.map((p) => p.name).join(', ')} is taken`);
    const block = new Block(claimed.cidr, claimed.pool);
    state.addBlock(block);
    const offset = block.findFree();
    return { value: state.assign(block, offset, owner), changed: true };
  }

  #adopt(state: IpamState, owned: ClaimedBlock[]): boolean {
    let added = false;
    for (const c of owned) {
      if (state.block(c.cidr)) continue;
      state.addBlock(new Block(c.cidr, c.pool));
      added = true;
    }
    return added;
  }
}
