// Encoding and decoding of the few ctnetlink messages the proxier needs
// (include/uapi/linux/netfilter/nfnetlink_conntrack.h): a dump of one
// family's entries and the deletion of one entry by its original tuple.
// Written by hand because the `netlink` package covers rtnetlink and genl
// but not nfnetlink; the format is small and fixed.

import type { Family } from '../base/family.ts';
import { bufferToIp, ipToBuffer } from './ip.ts';
import { attr, nested, NLA_F_NESTED } from './attrs.ts';

export const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
const NLA_TYPE_MASK = 0x3fff;

const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_ZONE = 18;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_IP_V6_SRC = 3;
const CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;

const AF_INET = 2;
const AF_INET6 = 10;

export const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const;

export interface Tuple {
  src: string;
  dst: string;
  protoNum: number;
  srcPort: number;
  dstPort: number;
}

export interface ConntrackEntry {
  orig: Tuple;
  reply: Tuple;
  zone: number;
  /** The CTA_TUPLE_ORIG payload as the kernel sent it; a delete echoes it back unparsed. */
  rawOrig?: Buffer;
}

export const ctMsgType = (msg: number): number => (NFNL_SUBSYS_CTNETLINK << 8) | msg;
const afOf = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);


const u8 = (v: number): Buffer => Buffer.from([v]);
function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}


export function nlmsg(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq, 8);
  hdr.writeUInt32LE(0, 12);
  return Buffer.concat([hdr, payload]);
}

function nfgenmsg(family: Family): Buffer {
  // version NFNETLINK_V0, res_id 0
  return Buffer.from([afOf(family), 0, 0, 0]);
}

const CTA_FILTER = 25;
const CTA_FILTER_ORIG_FLAGS = 1;
const CTA_FILTER_REPLY_FLAGS = 2;
const CTA_FILTER_FLAG_CTA_PROTO_NUM = 1 << 3;

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

/**
 * A dump of one family's entries; with `protoNum`, the kernel (5.9+,
 * CTA_FILTER) sends only that L4 protocol, so a node busy with TCP does not
 * ship every TCP entry to user space to find a few UDP ones. Older kernels
 * ignore the filter; callers match in user space anyway.
 */
export function encodeDump(family: Family, seq: number, protoNum?: number): Buffer {
  const parts = [nfgenmsg(family)];
  if (protoNum !== undefined) {
    parts.push(nested(CTA_TUPLE_ORIG, [nested(CTA_TUPLE_PROTO, [attr(CTA_PROTO_NUM, u8(protoNum))])]));
    parts.push(nested(CTA_FILTER, [attr(CTA_FILTER_ORIG_FLAGS, u32(CTA_FILTER_FLAG_CTA_PROTO_NUM)), attr(CTA_FILTER_REPLY_FLAGS, u32(0))]));
  }
  return nlmsg(ctMsgType(IPCTNL_MSG_CT_GET), NLM_F_REQUEST | NLM_F_DUMP, seq, Buffer.concat(parts));
}

function encodeTuple(type: number, family: Family, t: Tuple): Buffer {
  const [srcType, dstType] = family === 4 ? [CTA_IP_V4_SRC, CTA_IP_V4_DST] : [CTA_IP_V6_SRC, CTA_IP_V6_DST];
  return nested(type, [
    nested(CTA_TUPLE_IP, [attr(srcType, ipToBuffer(t.src)), attr(dstType, ipToBuffer(t.dst))]),
    nested(CTA_TUPLE_PROTO, [attr(CTA_PROTO_NUM, u8(t.protoNum)), attr(CTA_PROTO_SRC_PORT, be16(t.srcPort)), attr(CTA_PROTO_DST_PORT, be16(t.dstPort))]),
  ]);
}

/** Deletes exactly one entry, named by its original tuple (and zone). */
export function encodeDelete(family: Family, seq: number, entry: ConntrackEntry): Buffer {
  const tuple = entry.rawOrig ? attr(CTA_TUPLE_ORIG | NLA_F_NESTED, entry.rawOrig) : encodeTuple(CTA_TUPLE_ORIG, family, entry.orig);
  const parts = [nfgenmsg(family), tuple];
  if (entry.zone) parts.push(attr(CTA_ZONE, be16(entry.zone)));
  return nlmsg(ctMsgType(IPCTNL_MSG_CT_DELETE), NLM_F_REQUEST | NLM_F_ACK, seq, Buffer.concat(parts));
}

/**
 * Walks the attributes in buf[start, end) and calls `visit(type, from, to)`
 * with the payload bounds. Offsets rather than sub-buffers: a dump decodes
 * several nested levels per entry, and allocating a view per attribute was
 * most of its cost.
 */
function walkAttrs(buf: Buffer, start: number, end: number, visit: (type: number, from: number, to: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    visit(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off + 4, off + len);
    off += (len + 3) & ~3;
  }
}

function ipAt(buf: Buffer, from: number, to: number): string {
  return bufferToIp(buf.subarray(from, to));
}

function decodeTupleAt(buf: Buffer, start: number, end: number): Tuple | undefined {
  let src = '';
  let dst = '';
  let protoNum = -1;
  let srcPort = 0;
  let dstPort = 0;
  walkAttrs(buf, start, end, (type, from, to) => {
    if (type === CTA_TUPLE_IP) {
      walkAttrs(buf, from, to, (t, f, e) => {
        if (t === CTA_IP_V4_SRC || t === CTA_IP_V6_SRC) src = ipAt(buf, f, e);
        else if (t === CTA_IP_V4_DST || t === CTA_IP_V6_DST) dst = ipAt(buf, f, e);
      });
    } else if (type === CTA_TUPLE_PROTO) {
      walkAttrs(buf, from, to, (t, f) => {
        if (t === CTA_PROTO_NUM) protoNum = buf[f];
        else if (t === CTA_PROTO_SRC_PORT) srcPort = buf.readUInt16BE(f);
        else if (t === CTA_PROTO_DST_PORT) dstPort = buf.readUInt16BE(f);
      });
    }
  });
  if (!src || !dst || protoNum < 0) return undefined;
  return { src, dst, protoNum, srcPort, dstPort };
}

/** One IPCTNL_MSG_CT_NEW payload (after the nlmsghdr) → entry. */
export function decodeEntry(payload: Buffer): ConntrackEntry | undefined {
  let orig: Tuple | undefined;
  let reply: Tuple | undefined;
  let zone = 0;
  let rawOrig: Buffer | undefined;
  walkAttrs(payload, 4, payload.length, (type, from, to) => {
    if (type === CTA_TUPLE_ORIG) {
      orig = decodeTupleAt(payload, from, to);
      rawOrig = payload.subarray(from, to);
    } else if (type === CTA_TUPLE_REPLY) reply = decodeTupleAt(payload, from, to);
    else if (type === CTA_ZONE && to - from >= 2) zone = payload.readUInt16BE(from);
  });
  if (!orig || !reply) return undefined;
  return { orig, reply, zone, rawOrig };
}

export interface RawMessage {
  type: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

/** Splits one datagram into netlink messages. */
export function splitMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), payload: buf.subarray(off + 16, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

/** The errno carried by an NLMSG_ERROR payload (0 is an ACK). */
export const errorCode = (payload: Buffer): number => -payload.readInt32LE(0);
