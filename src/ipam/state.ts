// The node's IPAM state: the blocks it owns and who holds which address.
// Kept in memory by the allocator; persisted as one JSON document by the
// local store (local-store.ts).

import { Block, attachmentKey } from './block.ts';
import type { BlockRecord } from './block.ts';
import type { Family } from './cidr.ts';
import type { AllocatedAddress, AllocationOwner, AttachmentId } from './types.ts';

export const STATE_VERSION = 1;

export interface StateRecord {
  version: number;
  node: string;
  blocks: BlockRecord[];
}

interface Holding {
  block: Block;
  offset: number;
}

interface Attachment {
  id: AttachmentId;
  held: Holding[];
}

export class IpamState {
  readonly node: string;
  readonly #blocks: Block[] = [];
  readonly #blocksByCidr = new Map<string, Block>();
  readonly #byAttachment = new Map<string, Attachment>();
  /** Per family, the block the last allocation came from (a search hint, not persisted). */
  readonly lastUsed = new Map<Family, Block>();

  constructor(node: string) {
    this.node = node;
  }

  static fromRecord(r: StateRecord): IpamState {
    if (r.version !== STATE_VERSION) throw new Error(`IPAM state version ${r.version} is not supported (want ${STATE_VERSION})`);
    const s = new IpamState(r.node);
    for (const br of r.blocks) s.addBlock(Block.fromRecord(br));
    return s;
  }

  toRecord(): StateRecord {
    return { version: STATE_VERSION, node: this.node, blocks: this.#blocks.map((b) => b.toRecord()) };
  }

  get blocks(): readonly Block[] {
    return this.#blocks;
  }

  block(cidr: string): Block | undefined {
    return this.#blocksByCidr.get(cidr);
  }

  addBlock(block: Block): void {
    if (this.block(block.cidrText)) return;
    this.#blocks.push(block);
    this.#blocksByCidr.set(block.cidrText, block);
    for (const [offset, owner] of block.entries()) this.#hold(owner, { block, offset });
  }

  /** Drops an empty block; throws if it still holds addresses. */
  removeBlock(block: Block): void {
    if (!block.isEmpty) throw new Error(`block ${block.cidrText} still holds ${block.allocatedCount} addresses`);
    const i = this.#blocks.indexOf(block);
    if (i >= 0) this.#blocks.splice(i, 1);
    this.#blocksByCidr.delete(block.cidrText);
    if (this.lastUsed.get(block.family) === block) this.lastUsed.delete(block.family);
  }

  holdings(id: AttachmentId): AllocatedAddress[] {
    return (this.#byAttachment.get(attachmentKey(id))?.held ?? []).map((h) => h.block.address(h.offset));
  }

  assign(block: Block, offset: number, owner: AllocationOwner): AllocatedAddress {
    const addr = block.assign(offset, owner);
    this.#hold(owner, { block, offset });
    return addr;
  }

  /** Frees everything the attachment holds; returns how many addresses. */
  release(id: AttachmentId): number {
    const key = attachmentKey(id);
    const att = this.#byAttachment.get(key);
    if (!att) return 0;
    for (const h of att.held) h.block.release(h.offset);
    this.#byAttachment.delete(key);
    return att.held.length;
  }

  /** Every attachment that holds an address. */
  attachments(): AttachmentId[] {
    return [...this.#byAttachment.values()].map((a) => a.id);
  }

  #hold(id: AttachmentId, h: Holding): void {
    const key = attachmentKey(id);
    const att = this.#byAttachment.get(key);
    if (att) att.held.push(h);
    else this.#byAttachment.set(key, { id: { containerID: id.containerID, ifname: id.ifname }, held: [h] });
  }
}
