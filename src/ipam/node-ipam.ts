// The Ipam the CNI plugin calls: each operation runs the allocator on the
// node's state under the local store's lock.

import type { Logger } from '../base/log.ts';

/** The part of a logger IPAM uses; pino's Logger fits. */
export type IpamLog = Pick<Logger, 'debug' | 'info' | 'warn'>;

// No pino import on this path: the plugin starts once per pod, and loading a logger it does not need costs start time.
export const quietLog: IpamLog = { debug() {}, info() {}, warn() {} };
import type { Allocator } from './allocator.ts';
import type { LocalStore } from './local-store.ts';
import type { AllocatedAddress, AllocationOwner, AttachmentId, Ipam } from './types.ts';

export class NodeIpam implements Ipam {
  readonly #store: LocalStore;
  readonly #allocator: Allocator;
  readonly #log: IpamLog;

  constructor(store: LocalStore, allocator: Allocator, log: IpamLog) {
    this.#store = store;
    this.#allocator = allocator;
    this.#log = log;
  }

  get node(): string {
    return this.#store.node;
  }

  async allocate(owner: AllocationOwner): Promise<AllocatedAddress[]> {
    const out = await this.#store.update((s) => this.#allocator.allocate(s, owner));
    this.#log.debug({ containerID: owner.containerID, ifname: owner.ifname, addresses: out.map((a) => a.address) }, 'ipam: allocated');
    return out;
  }

  async release(id: AttachmentId): Promise<void> {
    const n = await this.#store.update((s) => this.#allocator.release(s, id));
    this.#log.debug({ containerID: id.containerID, ifname: id.ifname, released: n }, 'ipam: released');
  }

  async lookup(id: AttachmentId): Promise<AllocatedAddress[]> {
    return this.#allocator.lookup(this.#store.read(), id);
  }

  /**
   * Releases leaked attachments, checks the node's blocks against the claims
   * store (claims deleted behind its back), then gives back the blocks that
   * are left empty.
   */
  async garbageCollect(valid: AttachmentId[]): Promise<number> {
    const n = await this.#store.update((s) => this.#allocator.garbageCollect(s, valid));
    // The attachments are released and saved; a claims store that cannot be reached only delays the block work.
    try {
      const verified = await this.verifyBlocks();
      if (verified.reclaimed.length || verified.lost.length) this.#log.warn(verified, 'ipam: block claims were deleted behind this node');
      const blocks = await this.releaseEmptyBlocks();
      if (blocks.length) this.#log.info({ blocksReleased: blocks }, 'ipam: empty blocks released');
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'ipam: block verification or release failed; retried at the next GC');
    }
    if (n) this.#log.info({ released: n }, 'ipam: garbage collected');
    return n;
  }

  async attachments(): Promise<AttachmentId[]> {
    return this.#store.read().attachments();
  }

  /** See Allocator.verifyBlocks. */
  verifyBlocks(): Promise<{ reclaimed: string[]; lost: string[] }> {
    return this.#store.update((s) => this.#allocator.verifyBlocks(s));
  }

  /** Gives the node's empty blocks back to the claims store; returns their CIDRs. */
  releaseEmptyBlocks(): Promise<string[]> {
    return this.#store.update((s) => this.#allocator.releaseEmptyBlocks(s));
  }

  /** Closes what the claims store holds open (API connections); call before the plugin exits. */
  async close(): Promise<void> {
    await this.#allocator.claims.close?.();
  }

  /** Every address the node holds, for diagnostics and tests. */
  list(): Array<AllocatedAddress & AttachmentId> {
    const state = this.#store.read();
    const out: Array<AllocatedAddress & AttachmentId> = [];
    for (const b of state.blocks) {
      for (const [offset, owner] of b.entries()) out.push({ ...b.address(offset), containerID: owner.containerID, ifname: owner.ifname });
    }
    return out;
  }

  /** The blocks the node owns, with how many addresses each holds. */
  blocks(): Array<{ cidr: string; pool: string; allocated: number }> {
    return this.#store.read().blocks.map((b) => ({ cidr: b.cidrText, pool: b.pool, allocated: b.allocatedCount }));
  }
}
