// One block a node owns, with the addresses allocated inside it.
//
// Reserved offsets, and why:
//  - offset 0, the block's own network address: in podCIDR mode it is the
//    subnet's network address, in IPv6 the subnet-router anycast address
//    (RFC 4291 2.6.1); leaving it out in every mode keeps one rule.
//  - offset 1, the gateway: in bridge mode each block is a subnet on the
//    node's bridge, and the bridge holds the block's first usable address as
//    the pods' gateway (what host-local does with a range's ".1"). In routed
//    mode the address simply stays unused: one address per block is the price
//    of having one rule for both modes.
//  - for IPv4 the last offset, the subnet's broadcast address, because a pod
//    sees its address with the block's prefix length.
//
// Round-robin like host-local: the block remembers the last offset it handed
// out and the next search starts just after it, wrapping around. A released
// address is thus not reused at once, so a late packet for a deleted pod does
// not reach its successor.
//
// Offsets are numbers: a block bigger than 2^32 addresses (an IPv6 /64
// podCIDR) hands out only from its first 2^32, more than a node can use.

import { familyBits, formatIp, parseCidr } from './cidr.ts';
import type { Cidr, Family } from './cidr.ts';
import type { AllocatedAddress, AllocationOwner, AttachmentId } from './types.ts';

const MAX_OFFSETS = 2 ** 32;

/** How a block is written in the node's state file. */
export interface BlockRecord {
  cidr: string;
  pool: string;
  /** The last offset handed out (round-robin cursor). */
  cursor: number;
  /** Offset → owner. */
  allocations: Record<string, AllocationOwner>;
  /** Set when the claims store says another node owns the block: no new addresses from it. */
  lost?: boolean;
}

export const attachmentKey = (id: AttachmentId): string => `${id.containerID}\n${id.ifname}`;

export class Block {
  readonly cidrText: string;
  readonly cidr: Cidr;
  readonly pool: string;
  readonly family: Family;
  /** Offsets 0 .. size-1 are in the block. */
  readonly size: number;
  readonly firstUsable: number;
  readonly lastUsable: number;
  readonly gateway: string;
  /** Another node owns this block in the claims store: existing pods keep their addresses, no new ones. */
  lost = false;
  #cursor: number;
  readonly #owners = new Map<number, AllocationOwner>();

  constructor(cidrText: string, pool: string, cursor = 0) {
    this.cidrText = cidrText;
    this.cidr = parseCidr(cidrText);
    this.pool = pool;
    this.family = this.cidr.family;
    const hostBits = familyBits(this.family) - this.cidr.prefix;
    this.size = hostBits >= 32 ? MAX_OFFSETS : 2 ** hostBits;
    this.firstUsable = 2;
    this.lastUsable = this.family === 4 ? this.size - 2 : this.size - 1;
    if (this.lastUsable < this.firstUsable) throw new RangeError(`block ${cidrText} is too small to hold a pod address`);
    this.gateway = formatIp(this.family, this.cidr.base + 1n);
    this.#cursor = cursor;
  }

  static fromRecord(r: BlockRecord): Block {
    const b = new Block(r.cidr, r.pool, r.cursor);
    for (const [offset, owner] of Object.entries(r.allocations)) b.#owners.set(Number(offset), owner);
    b.lost = r.lost === true;
    return b;
  }

  toRecord(): BlockRecord {
    const allocations: Record<string, AllocationOwner> = {};
    for (const [offset, owner] of this.#owners) allocations[offset] = owner;
    const r: BlockRecord = { cidr: this.cidrText, pool: this.pool, cursor: this.#cursor, allocations };
    if (this.lost) r.lost = true;
    return r;
  }

  get usableCount(): number {
    return this.lastUsable - this.firstUsable + 1;
  }

  get allocatedCount(): number {
    return this.#owners.size;
  }

  get isFull(): boolean {
    return this.#owners.size >= this.usableCount;
  }

  get isEmpty(): boolean {
    return this.#owners.size === 0;
  }

  /** The next free offset after the cursor (wrapping), or -1 when full. */
  findFree(): number {
    if (this.isFull) return -1;
    const start = this.#cursor + 1 > this.lastUsable || this.#cursor < this.firstUsable ? this.firstUsable : this.#cursor + 1;
    for (let o = start; o <= this.lastUsable; o++) if (!this.#owners.has(o)) return o;
    for (let o = this.firstUsable; o < start; o++) if (!this.#owners.has(o)) return o;
    return -1;
  }

  assign(offset: number, owner: AllocationOwner): AllocatedAddress {
    if (this.#owners.has(offset)) throw new Error(`offset ${offset} of ${this.cidrText} is taken`);
    this.#owners.set(offset, owner);
    this.#cursor = offset;
    return this.address(offset);
  }

  release(offset: number): boolean {
    return this.#owners.delete(offset);
  }

  address(offset: number): AllocatedAddress {
    return {
      address: `${formatIp(this.family, this.cidr.base + BigInt(offset))}/${this.cidr.prefix}`,
      gateway: this.gateway,
      family: this.family,
      block: this.cidrText,
    };
  }

  /** [offset, owner] pairs. */
  entries(): IterableIterator<[number, AllocationOwner]> {
    return this.#owners.entries();
  }
}
