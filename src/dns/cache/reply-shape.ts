import { HEADER_SIZE, Rcode, RRType, FLAG_TC } from '../wire/constants.ts';

/** What the cache needs to know about an upstream's reply. */
export interface ReplyShape {
  /** 'success' (answers), 'denial' (NXDOMAIN or NODATA, RFC 2308), or null: not cacheable (errors, truncated, unreadable). */
  kind: 'success' | 'denial' | null;
  /** Offsets of the 32-bit TTL of every record but OPT (whose "TTL" holds EDNS flags, RFC 6891 §6.1.3). */
  ttlOffsets: number[];
  /** Smallest record TTL, or null with no records. */
  minTtl: number | null;
  /** RFC 2308 §5 negative TTL: min(SOA TTL, SOA MINIMUM) of the authority SOA, or null. */
  negativeTtl: number | null;
}

const NOT_CACHEABLE: ReplyShape = { kind: null, ttlOffsets: [], minTtl: null, negativeTtl: null };

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

/** Walks every section of a reply once, noting TTL positions and the negative-caching TTL. */
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
  let negativeTtl: number | null = null;
  for (let i = 0; i < an + ns + ar; i++) {
    pos = skipName(reply, pos);
    if (pos < 0 || pos + 10 > reply.length) return NOT_CACHEABLE;
    const type = reply.readUInt16BE(pos);
    const ttl = reply.readUInt32BE(pos + 4);
    const rdlen = reply.readUInt16BE(pos + 8);
    const rdata = pos + 10;
    if (rdata + rdlen > reply.length) return NOT_CACHEABLE;
    if (type !== RRType.OPT) {
      ttlOffsets.push(pos + 4);
      minTtl = minTtl === null ? ttl : Math.min(minTtl, ttl);
      if (type === RRType.SOA && i >= an && i < an + ns && rdlen >= 20) negativeTtl = Math.min(ttl, reply.readUInt32BE(rdata + rdlen - 4));
    }
    pos = rdata + rdlen;
  }
  let kind: ReplyShape['kind'] = null;
  if (rcode === Rcode.NXDOMAIN || (rcode === Rcode.NOERROR && an === 0)) kind = 'denial';
  else if (rcode === Rcode.NOERROR) kind = 'success';
  return { kind, ttlOffsets, minTtl, negativeTtl };
}
