// The few nf_tables netlink messages netlet sends itself
// (include/uapi/linux/netfilter/nf_tables.h, nfnetlink.h): set elements
// added, deleted, or a set flushed, framed by BATCH_BEGIN / BATCH_END so the
// kernel applies them as one transaction, as `nft -f` does. Keys and data
// are raw bytes here; what a set's key looks like is the caller's business.

import { attr, nested } from './attrs.ts';
import { NLM_F_ACK, NLM_F_REQUEST, nlmsg } from './ctnetlink-codec.ts';
import { afOf } from './ip.ts';
import type { Family } from './ip.ts';

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NLM_F_CREATE = 0x400;

const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;

/** Verdict codes (linux/netfilter.h, nf_tables.h nft_verdicts). */
export const VERDICT = { drop: 0, accept: 1, jump: -3, goto: -4 } as const;

export interface Verdict {
  code: number;
  /** The chain of a jump or goto. */
  chain?: string;
}

/** One element: its key bytes and, in a map, its data (bytes or a verdict). */
export interface SetElement {
  key: Buffer;
  data?: Buffer | Verdict;
}

const str = (s: string): Buffer => Buffer.from(`${s}\0`);
function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

/** struct nfgenmsg: family, version 0, res_id (network order). */
function nfgenmsg(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  b.writeUInt16BE(resId, 2);
  return b;
}

const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;

export const encodeBatchBegin = (seq: number): Buffer => nlmsg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, nfgenmsg(0, NFNL_SUBSYS_NFTABLES));
export const encodeBatchEnd = (seq: number): Buffer => nlmsg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, nfgenmsg(0, NFNL_SUBSYS_NFTABLES));

function dataAttr(data: Buffer | Verdict): Buffer {
  if (Buffer.isBuffer(data)) return nested(NFTA_SET_ELEM_DATA, [attr(NFTA_DATA_VALUE, data)]);
  const verdict = [attr(NFTA_VERDICT_CODE, be32(data.code))];
  if (data.chain !== undefined) verdict.push(attr(NFTA_VERDICT_CHAIN, str(data.chain)));
  return nested(NFTA_SET_ELEM_DATA, [nested(NFTA_DATA_VERDICT, verdict)]);
}

function elementAttr(e: SetElement, withData: boolean): Buffer {
  const parts = [nested(NFTA_SET_ELEM_KEY, [attr(NFTA_DATA_VALUE, e.key)])];
  if (withData && e.data !== undefined) parts.push(dataAttr(e.data));
  return nested(NFTA_LIST_ELEM, parts);
}

interface ElementsMessage {
  family: Family;
  table: string;
  set: string;
}

function listHead(m: ElementsMessage): Buffer[] {
  return [nfgenmsg(afOf(m.family)), attr(NFTA_SET_ELEM_LIST_TABLE, str(m.table)), attr(NFTA_SET_ELEM_LIST_SET, str(m.set))];
}

/** NEWSETELEM (`add element`: an existing element with the same data is no error), acked. */
export function encodeNewSetElements(seq: number, m: ElementsMessage, elements: readonly SetElement[]): Buffer {
  const list = nested(NFTA_SET_ELEM_LIST_ELEMENTS, elements.map((e) => elementAttr(e, true)));
  return nlmsg(nftType(NFT_MSG_NEWSETELEM), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, seq, Buffer.concat([...listHead(m), list]));
}

/** DELSETELEM of these keys (the data is not needed), acked. */
export function encodeDelSetElements(seq: number, m: ElementsMessage, elements: readonly SetElement[]): Buffer {
  const list = nested(NFTA_SET_ELEM_LIST_ELEMENTS, elements.map((e) => elementAttr(e, false)));
  return nlmsg(nftType(NFT_MSG_DELSETELEM), NLM_F_REQUEST | NLM_F_ACK, seq, Buffer.concat([...listHead(m), list]));
}

/** DELSETELEM with no element list: every element of the set goes (`flush set`), acked. */
export function encodeFlushSet(seq: number, m: ElementsMessage): Buffer {
  return nlmsg(nftType(NFT_MSG_DELSETELEM), NLM_F_REQUEST | NLM_F_ACK, seq, Buffer.concat(listHead(m)));
}
