import { FLAG_TC, HEADER_SIZE, Rcode, RRType } from '../wire/constants.ts';
import type { ReplyClass } from './cache-settings.ts';

/** What the cache needs to know about an upstream's reply. */
export interface ReplyShape {
  /** How CoreDNS's cache classes it (response.Typify); null: not cacheable (other errors, truncated, unreadable). */
  cls: ReplyClass;
  /** Offsets of the 32-bit TTL of every record but OPT (whose "TTL" holds EDNS flags, RFC 6891 §6.1.3). */
  ttlOffsets: number[];
  /** Smallest record TTL but OPT's, or null with no records (dnsutil.MinimalTTL). */
  minTtl: number | null;
  /** Where the OPT record starts and ends; -1 when there is none. */
  optStart: number;
  optEnd: number;
}

const NOT_CACHEABLE: ReplyShape = { cls: null, ttlOffsets: [], minTtl: null, optStart: -1, optEnd: -1 };

/** Skips a possibly compressed name; -1 when it runs off the end. */
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

/**
 * Walks every section of a reply once. The class follows CoreDNS's
 * response.Typify: answers with NOERROR are success; an SOA in authority
 * with NOERROR (NODATA) or NXDOMAIN is a denial; SERVFAIL and NOTIMP are
 * server errors; NOERROR without answers or SOA (a delegation, an empty
 * reply) is success; anything else (REFUSED, an NXDOMAIN without SOA…) is
 * not cached.
 */
export function shapeOf(reply: Buffer): ReplyShape {
  if (reply.length < HEADER_SIZE) return NOT_CACHEABLE;
  const flags = reply.readUInt16BE(2);
  if (flags & FLAG_TC) return NOT_CACHEABLE;
  const rcode = flags & 0xf;
  const qd = reply.readUInt16BE(4);
  const an = reply.readUInt16BE(6);
  const ns = reply.readUInt16BE(8);
  const ar = reply.readUInt16BE(10);
  let pos = HEADER_SIZE;
  for (let i = 0; i < qd; i++) {
    pos = skipName(reply, pos);
    if (pos < 0 || pos + 4 > reply.length) return NOT_CACHEABLE;
    pos += 4;
  }
  const ttlOffsets: number[] = [];
  let minTtl: number | null = null;
  let soa = false;
  let optStart = -1;
  let optEnd = -1;
  for (let i = 0; i < an + ns + ar; i++) {
    const start = pos;
    pos = skipName(reply, pos);
    if (pos < 0 || pos + 10 > reply.length) return NOT_CACHEABLE;
    const type = reply.readUInt16BE(pos);
    const ttl = reply.readUInt32BE(pos + 4);
    const end = pos + 10 + reply.readUInt16BE(pos + 8);
    if (end > reply.length) return NOT_CACHEABLE;
    if (type === RRType.OPT) {
      optStart = start;
      optEnd = end;
    } else {
      ttlOffsets.push(pos + 4);
      minTtl = minTtl === null ? ttl : Math.min(minTtl, ttl);
      if (type === RRType.SOA && i >= an && i < an + ns) soa = true;
    }
    pos = end;
  }
  let cls: ReplyClass = null;
  if (an > 0 && rcode === Rcode.NOERROR) cls = 'success';
  else if (soa && (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN)) cls = 'denial';
  else if (rcode === Rcode.SERVFAIL || rcode === Rcode.NOTIMP) cls = 'servfail';
  else if (rcode === Rcode.NOERROR) cls = 'success';
  return { cls, ttlOffsets, minTtl, optStart, optEnd };
}

/**
 * `reply` without its OPT record (hop by hop: CoreDNS's cache keeps none,
 * and the server adds the client's own, wire/response.ts fitForeign) and
 * with every other record's TTL set to `ttl`. A new buffer; `shape` is
 * `reply`'s.
 */
export function cappedCopy(reply: Buffer, shape: ReplyShape, ttl: number): Buffer {
  let out: Buffer;
  if (shape.optStart < 0) out = Buffer.from(reply);
  else {
    out = Buffer.allocUnsafe(reply.length - (shape.optEnd - shape.optStart));
    reply.copy(out, 0, 0, shape.optStart);
    reply.copy(out, shape.optStart, shape.optEnd);
    out.writeUInt16BE(reply.readUInt16BE(10) - 1, 10);
  }
  const shift = shape.optEnd - shape.optStart;
  for (const at of shape.ttlOffsets) out.writeUInt32BE(ttl, shape.optStart >= 0 && at > shape.optStart ? at - shift : at);
  return out;
}

/** The TTL offsets of `cappedCopy(reply, shape, …)`. */
export function cappedTtlOffsets(shape: ReplyShape): number[] {
  if (shape.optStart < 0) return shape.ttlOffsets;
  const shift = shape.optEnd - shape.optStart;
  return shape.ttlOffsets.map((at) => (at > shape.optStart ? at - shift : at));
}
