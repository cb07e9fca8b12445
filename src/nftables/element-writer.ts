// Partial syncs that change only elements of the shared sets (an endpoint
// change: a few map elements deleted and added), written as one nf_tables
// netlink batch on a socket the agent keeps, instead of one `nft -f`.
//
// Why: nft 1.0.6 pays ~16 ms for any transaction that deletes an element,
// and none of it is the deletion. The kernel frees deleted elements after
// an RCU grace period, in a work item; when a netlink socket closes, the
// nf_tables release handler waits for that work (nft_rcv_nl_event ->
// nf_tables_trans_destroy_flush_work). Every `nft` process closes its
// socket on exit, so it waits for the grace period; measured with strace,
// its close() took 20 ms and its commit 30 µs. A socket kept open never
// waits. Everything else (chains, rules, declarations, sets with
// intervals, a full sync) still goes through `nft -f`.

import { NETLINK_NETFILTER } from '../netlink/ctnetlink-codec.ts';
import { openBatchSocket } from '../netlink/batch-socket.ts';
import type { BatchSocket } from '../netlink/batch-socket.ts';
import { encodeBatchBegin, encodeBatchEnd, encodeDelSetElements, encodeFlushSet, encodeNewSetElements } from '../netlink/nftables-codec.ts';
import type { SetElement } from '../netlink/nftables-codec.ts';
import type { Family } from '../proxier/plan.ts';
import { elementBytes } from './element-bytes.ts';
import { NftError } from './nft.ts';
import type { Element } from './render-plan.ts';
import { TABLE } from './words.ts';

/** One transaction of element changes, applied in this order. */
export interface ElementChange {
  deletes: readonly Element[];
  /** Sets emptied after the deletes (the digest set). */
  flush: readonly string[];
  adds: readonly Element[];
}

/** How the backend writes an element-only change; undefined from encode(): not expressible, use nft. */
export interface ElementWriter {
  /** The change's messages, or undefined when some element is written only through nft or the batch would be too big. */
  encode(change: ElementChange): Array<(seq: number) => Buffer> | undefined;
  /** Applies the encoded messages as one transaction; throws NftError when the kernel refuses it (nothing changed). */
  apply(messages: Array<(seq: number) => Buffer>): Promise<void>;
  close(): void;
}

/** The socket could not be opened: the backend writes through nft from then on. */
export class NoNetlinkSocket extends Error {}

/** Elements per message: the element list is one attribute, whose length is 16 bits. */
const ELEMENTS_PER_MESSAGE = 400;
/** Elements per batch: a partial sync bigger than this (a namespace deleted) goes through nft, whose socket buffer is sized for it. */
export const MAX_BATCH_ELEMENTS = 2000;

export class NetlinkElementWriter implements ElementWriter {
  readonly #family: Family;
  readonly #netnsPath: string | undefined;
  #socket: BatchSocket | undefined;

  /** `netnsPath`: the namespace whose table to write (a test); the process's own by default. */
  constructor(family: Family, netnsPath?: string) {
    this.#family = family;
    this.#netnsPath = netnsPath;
  }

  encode(change: ElementChange): Array<(seq: number) => Buffer> | undefined {
    if (change.deletes.length + change.adds.length > MAX_BATCH_ELEMENTS) return undefined;
    const deletes = grouped(change.deletes);
    const adds = grouped(change.adds);
    if (!deletes || !adds) return undefined;
    const m = (set: string) => ({ family: this.#family, table: TABLE, set });
    return [
      ...deletes.map(([set, els]) => (seq: number) => encodeDelSetElements(seq, m(set), els)),
      ...change.flush.map((set) => (seq: number) => encodeFlushSet(seq, m(set))),
      ...adds.map(([set, els]) => (seq: number) => encodeNewSetElements(seq, m(set), els)),
    ];
  }

  async apply(messages: Array<(seq: number) => Buffer>): Promise<void> {
    // Opened in the process's namespace at the first write, and kept.
    try {
      this.#socket ??= openBatchSocket(NETLINK_NETFILTER, 'nf_tables', this.#netnsPath);
    } catch (err) {
      throw new NoNetlinkSocket(`nf_tables netlink socket: ${(err as Error).message}`);
    }
    try {
      await this.#socket.framedBatch(encodeBatchBegin, messages, encodeBatchEnd);
    } catch (err) {
      throw new NftError(`nf_tables element transaction failed: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}

/** Elements as bytes, grouped by set in first-seen order and cut into messages; undefined when one is written only through nft. */
function grouped(elements: readonly Element[]): Array<[string, SetElement[]]> | undefined {
  const bySet = new Map<string, SetElement[][]>();
  for (const e of elements) {
    const bytes = elementBytes(e);
    if (!bytes) return undefined;
    let lists = bySet.get(e.set);
    if (!lists) bySet.set(e.set, (lists = [[]]));
    if (lists[lists.length - 1].length === ELEMENTS_PER_MESSAGE) lists.push([]);
    lists[lists.length - 1].push(bytes);
  }
  return [...bySet].flatMap(([set, lists]) => lists.map((l): [string, SetElement[]] => [set, l]));
}
