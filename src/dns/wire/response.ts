import { FLAG_QR, FLAG_TC, HEADER_SIZE, RRType } from './constants.ts';
import type { Edns, Query } from './query.ts';
import type { EncodedMessage } from './writer.ts';

const OPT_SIZE = 11;

/**
 * Turns a (possibly cached) encoded reply into the bytes for one query: its
 * ID, its RD/CD flags, its question bytes (so the reply echoes the query's
 * case, and names compressed against the question do too), an OPT record
 * when the query had one (RFC 6891 §7), and truncation to `maxSize` at an
 * answer-record boundary with TC set (RFC 2181 §9) when it does not fit.
 * `ttl` ≥ 0 replaces every record's TTL (the `cache` plugin's aged
 * answers, cache/answer-ttl.ts); -1 leaves them as encoded.
 * Never writes into `msg.bytes`, which may be shared.
 */
export function finishReply(msg: EncodedMessage, query: Query, queryBuf: Buffer, maxSize: number, rotate = 0, ttl = -1): Buffer {
  const withOpt = query.edns !== null;
  const optLen = withOpt ? OPT_SIZE : 0;
  let end = msg.bytes.length;
  let ancount = msg.ancount;
  let nscount = msg.nscount;
  let arcount = msg.arcount;
  let truncated = false;
  if (end + optLen > maxSize) {
    truncated = true;
    end = query.questionEnd;
    ancount = 0;
    for (const e of msg.answerEnds) {
      if (e + optLen > maxSize) break;
      end = e;
      ancount++;
    }
    nscount = 0;
    arcount = 0;
  }
  const out = Buffer.allocUnsafe(end + optLen);
  msg.bytes.copy(out, 0, 0, end);
  queryBuf.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
  out.writeUInt16BE(query.id, 0);
  let flags = (msg.bytes.readUInt16BE(2) & ~0x0110) | (query.flags & 0x0110);
  if (truncated) flags |= FLAG_TC;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(ancount, 6);
  out.writeUInt16BE(nscount, 8);
  out.writeUInt16BE(arcount + (withOpt ? 1 : 0), 10);
  if (withOpt) writeOpt(out, end, msg.rcode, query.edns!);
  if (ttl >= 0) setTtls(out, msg.ttlOffsets, end, ttl);
  if (rotate && ancount > 1) rotateAddresses(out, msg, query.questionEnd, ancount, rotate);
  return out;
}

/** Every record TTL before `end` set to `ttl`; byte stores, since this runs on every aged cache hit. */
function setTtls(out: Buffer, offsets: readonly number[], end: number, ttl: number): void {
  const b0 = ttl >>> 24;
  const b1 = (ttl >>> 16) & 0xff;
  const b2 = (ttl >>> 8) & 0xff;
  const b3 = ttl & 0xff;
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i];
    if (at >= end) break;
    out[at] = b0;
    out[at + 1] = b1;
    out[at + 2] = b2;
    out[at + 3] = b3;
  }
}

/**
 * CoreDNS's `loadbalance`: successive replies list the addresses in a
 * different order, so clients that take the first spread over endpoints.
 * Done on the bytes: only when every answer is an A or AAAA record of the
 * same size whose owner is a pointer to the question, so that no name in
 * the message points into the bytes being moved.
 */
function rotateAddresses(out: Buffer, msg: EncodedMessage, start: number, count: number, rotate: number): void {
  const size = msg.answerEnds[0] - start;
  if (size !== 16 && size !== 28) return;
  for (let i = 0; i < count; i++) {
    const at = start + i * size;
    if (msg.answerEnds[i] !== at + size || out[at] < 0xc0) return;
    const type = out.readUInt16BE(at + 2);
    if (type !== RRType.A && type !== RRType.AAAA) return;
  }
  const shift = (rotate % count) * size;
  if (shift === 0) return;
  const section = Buffer.from(out.subarray(start, start + count * size));
  section.copy(out, start, shift);
  section.copy(out, start + section.length - shift, 0, shift);
}

/**
 * Our OPT: the UDP size is the one this client gets (its own, at least
 * 512), as CoreDNS echoes the query's size rather than advertising a fixed
 * one; DO echoed (RFC 3225 §3). No options: netlet does not echo a client's
 * COOKIE or other options back (CoreDNS echoes the ones it knows; see
 * docs/corefile.md).
 */
function writeOpt(out: Buffer, at: number, rcode: number, edns: Edns): void {
  out[at] = 0; // root owner
  out.writeUInt16BE(RRType.OPT, at + 1);
  out.writeUInt16BE(edns.udpSize, at + 3);
  out[at + 5] = (rcode >> 4) & 0xff; // extended rcode, upper 8 bits
  out[at + 6] = 0; // version 0
  out.writeUInt16BE(edns.dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}

/**
 * A reply with no records: FORMERR/NOTIMP when only the header could be
 * read (RFC 1035 §4.1.1). RA=0: CoreDNS sets RA only on forwarded answers.
 */
export function headerOnlyReply(id: number, queryFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG_QR | (queryFlags & 0x7900) | (rcode & 0xf), 2);
  return out;
}

/** Offset just past a possibly compressed name, or -1. */
function skipName(buf: Buffer, pos: number): number {
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= buf.length ? pos + 2 : -1;
    if (len & 0xc0) return -1;
    pos += len + 1;
  }
}

/** Where the OPT record of a reply starts and ends, or null when it has none (or cannot be read). */
function findOpt(reply: Buffer): { start: number; end: number } | null {
  if (reply.length < HEADER_SIZE) return null;
  const qd = reply.readUInt16BE(4);
  const an = reply.readUInt16BE(6);
  const ns = reply.readUInt16BE(8);
  const ar = reply.readUInt16BE(10);
  if (ar === 0) return null;
  let pos = HEADER_SIZE;
  for (let i = 0; i < qd; i++) {
    pos = skipName(reply, pos);
    if (pos < 0) return null;
    pos += 4;
  }
  for (let i = 0; i < an + ns + ar; i++) {
    const start = pos;
    pos = skipName(reply, pos);
    if (pos < 0 || pos + 10 > reply.length) return null;
    const type = reply.readUInt16BE(pos);
    const end = pos + 10 + reply.readUInt16BE(pos + 8);
    if (end > reply.length) return null;
    if (type === RRType.OPT && i >= an + ns) return { start, end };
    pos = end;
  }
  return null;
}

/**
 * A reply that did not come from us (forwarded, or from the `cache`
 * plugin's memory) made fit for this client, as CoreDNS's server does for
 * every reply (request.SizeAndDo, then Scrub):
 * - the query had EDNS: the reply's OPT carries the client's UDP size and
 *   DO; a reply without one (a cached upstream answer: the cache keeps no
 *   OPT, it is hop by hop) gets ours;
 * - the query had none: no OPT goes back (RFC 6891 §7);
 * - longer than `maxSize`: header, question (and OPT) only, with TC set,
 *   so the client retries over TCP.
 */
export function fitForeign(reply: Buffer, query: Query, maxSize: number): Buffer {
  const opt = findOpt(reply);
  let out = reply;
  if (query.edns) {
    if (opt) {
      out.writeUInt16BE(query.edns.udpSize, opt.start + 3);
      // Keep the extended rcode and version; the flags are the upstream's DO or the client's.
      if (query.edns.dnssecOk) out[opt.start + 7] |= 0x80;
    } else {
      out = Buffer.allocUnsafe(reply.length + OPT_SIZE);
      reply.copy(out, 0);
      writeOpt(out, reply.length, reply[3] & 0xf, query.edns);
      out.writeUInt16BE(reply.readUInt16BE(10) + 1, 10);
    }
  } else if (opt) {
    out = Buffer.concat([reply.subarray(0, opt.start), reply.subarray(opt.end)]);
    out.writeUInt16BE(reply.readUInt16BE(10) - 1, 10);
  }
  if (out.length <= maxSize) return out;
  const optLen = query.edns ? OPT_SIZE : 0;
  const cut = Buffer.alloc(query.questionEnd + optLen);
  out.copy(cut, 0, 0, Math.min(query.questionEnd, out.length));
  cut.writeUInt16BE(out.readUInt16BE(2) | FLAG_TC, 2);
  cut.writeUInt16BE(1, 4);
  cut.writeUInt16BE(0, 6);
  cut.writeUInt16BE(0, 8);
  cut.writeUInt16BE(query.edns ? 1 : 0, 10);
  if (query.edns) writeOpt(cut, query.questionEnd, out[3] & 0xf, query.edns);
  return cut;
}
