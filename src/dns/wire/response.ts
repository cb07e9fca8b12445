import { FLAG_QR, FLAG_RA, FLAG_TC, HEADER_SIZE, OUR_UDP_SIZE, RRType } from './constants.ts';
import type { Query } from './query.ts';
import type { EncodedMessage } from './writer.ts';

const OPT_SIZE = 11;

/**
 * Turns a (possibly cached) encoded reply into the bytes for one query: its
 * ID, its RD/CD flags, its question bytes (so the reply echoes the query's
 * case, and names compressed against the question do too), an OPT record
 * when the query had one (RFC 6891 §7), and truncation to `maxSize` at an
 * answer-record boundary with TC set (RFC 2181 §9) when it does not fit.
 * Never writes into `msg.bytes`, which may be shared.
 */
export function finishReply(msg: EncodedMessage, query: Query, queryBuf: Buffer, maxSize: number, rotate = 0): Buffer {
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
  if (withOpt) writeOpt(out, end, msg.rcode, query.edns!.dnssecOk);
  if (rotate && ancount > 1) rotateAddresses(out, msg, query.questionEnd, ancount, rotate);
  return out;
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

function writeOpt(out: Buffer, at: number, rcode: number, dnssecOk: boolean): void {
  out[at] = 0; // root owner
  out.writeUInt16BE(RRType.OPT, at + 1);
  out.writeUInt16BE(OUR_UDP_SIZE, at + 3);
  out[at + 5] = (rcode >> 4) & 0xff; // extended rcode, upper 8 bits
  out[at + 6] = 0; // version 0
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7); // DO echoed (RFC 3225 §3)
  out.writeUInt16BE(0, at + 9);
}

/** A reply with no records: FORMERR/NOTIMP when only the header could be read (RFC 1035 §4.1.1). */
export function headerOnlyReply(id: number, queryFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG_QR | FLAG_RA | (queryFlags & 0x7900) | (rcode & 0xf), 2);
  return out;
}

/**
 * Cuts a reply that did not come from us (a forwarded one) to `maxSize`:
 * header and question only, with TC set, so the client retries over TCP.
 */
export function truncateForeign(reply: Buffer, query: Query, maxSize: number): Buffer {
  if (reply.length <= maxSize) return reply;
  const out = Buffer.alloc(query.questionEnd);
  reply.copy(out, 0, 0, Math.min(query.questionEnd, reply.length));
  out.writeUInt16BE(reply.readUInt16BE(2) | FLAG_TC, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

