import { HEADER_SIZE, RRType } from '../wire/constants.ts';

// A whole DNS message read into plain data and written back, for the
// plugins that change a reply after the fact (rewrite, minimal) or answer
// with records the answer encoder does not hold (chaos's CH class, any's
// HINFO, a zone file's MX). Names keep the case they were sent in; names
// inside the record data of the types RFC 3597 §4 lets compress are read
// out, so the message can be written back without compression. Not the
// hot path: the kubernetes answers and forwarding never go through here.

/** Record data: bytes, with the names it holds as strings in between. */
export type RdataPart = Buffer | { name: string };

export interface WireRecord {
  name: string;
  type: number;
  class: number;
  /** For OPT, the extended rcode, version and flags (RFC 6891 §6.1.3). */
  ttl: number;
  rdata: RdataPart[];
}

export interface WireQuestion {
  name: string;
  type: number;
  class: number;
}

export interface WireMessage {
  id: number;
  flags: number;
  question: WireQuestion[];
  answer: WireRecord[];
  authority: WireRecord[];
  additional: WireRecord[];
}

/** Where the names sit in the data of the types that may compress them (RFC 1035 §3.3, RFC 2782). */
const NAME_LAYOUT: Record<number, Array<'name' | number>> = {
  [RRType.NS]: ['name'],
  [RRType.CNAME]: ['name'],
  [RRType.PTR]: ['name'],
  [RRType.MX]: [2, 'name'],
  [RRType.SRV]: [6, 'name'],
  [RRType.SOA]: ['name', 'name', 20],
};

class Reader {
  readonly buf: Buffer;
  pos: number;
  constructor(buf: Buffer, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  u16(): number {
    if (this.pos + 2 > this.buf.length) throw new RangeError('short message');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new RangeError('short message');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A possibly compressed name, in the case it was sent; dots inside a label are written \. (RFC 4343 §2.1). */
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    for (let hops = 0; ; ) {
      if (pos >= this.buf.length) throw new RangeError('name past the end');
      const len = this.buf[pos];
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (++hops > 64) throw new RangeError('compression loop');
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = ((len & 0x3f) << 8) | this.buf[pos + 1];
        continue;
      }
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len).replaceAll('.', '\\.'));
      pos += len + 1;
    }
    return labels.length ? `${labels.join('.')}.` : '.';
  }

  record(): WireRecord {
    const name = this.name();
    const type = this.u16();
    const klass = this.u16();
    const ttl = this.u32();
    const length = this.u16();
    const end = this.pos + length;
    if (end > this.buf.length) throw new RangeError('record data past the end');
    const layout = NAME_LAYOUT[type];
    const rdata: RdataPart[] = [];
    if (!layout) rdata.push(Buffer.from(this.buf.subarray(this.pos, end)));
    else {
      for (const part of layout) {
        if (part === 'name') rdata.push({ name: this.name() });
        else {
          rdata.push(Buffer.from(this.buf.subarray(this.pos, this.pos + part)));
          this.pos += part;
        }
      }
    }
    this.pos = end;
    return { name, type, class: klass, ttl, rdata };
  }
}

/** The message in `buf`, or null when it cannot be read whole. */
export function decodeWire(buf: Buffer): WireMessage | null {
  try {
    if (buf.length < HEADER_SIZE) return null;
    const r = new Reader(buf, HEADER_SIZE);
    const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
    const question: WireQuestion[] = [];
    for (let i = 0; i < counts[0]; i++) question.push({ name: r.name(), type: r.u16(), class: r.u16() });
    const section = (n: number) => Array.from({ length: n }, () => r.record());
    return { id: buf.readUInt16BE(0), flags: buf.readUInt16BE(2), question, answer: section(counts[1]), authority: section(counts[2]), additional: section(counts[3]) };
  } catch {
    return null;
  }
}

function nameBytes(name: string): Buffer {
  const parts: Buffer[] = [];
  if (name !== '.') {
    // Split on dots not escaped as \. (the reader writes a dot inside a label that way).
    for (const label of name.replace(/\.$/, '').split(/(?<!\\)\./)) {
      const b = Buffer.from(label.replaceAll('\\.', '.'), 'latin1');
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function recordBytes(r: WireRecord): Buffer {
  const data = Buffer.concat(r.rdata.map((p) => (Buffer.isBuffer(p) ? p : nameBytes(p.name))));
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.class, 2);
  fixed.writeUInt32BE(r.ttl >>> 0, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([nameBytes(r.name), fixed, data]);
}

/**
 * The message's bytes, uncompressed. Past `maxSize` (a UDP client's limit)
 * the records that do not fit are left out, from the additional section
 * back to the answer, with TC set when an answer or authority record had to go;
 * the OPT record always stays.
 */
export function encodeWire(m: WireMessage, maxSize = 65535): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  const question = Buffer.concat(m.question.map((q) => {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(q.class, 2);
    return Buffer.concat([nameBytes(q.name), tail]);
  }));
  const opt = m.additional.filter((r) => r.type === RRType.OPT).map(recordBytes);
  const sections = [m.answer, m.authority, m.additional.filter((r) => r.type !== RRType.OPT)].map((s) => s.map(recordBytes));
  let size = HEADER_SIZE + question.length + opt.reduce((n, b) => n + b.length, 0);
  let truncated = false;
  const kept = sections.map((records, i) => {
    const out: Buffer[] = [];
    for (const b of records) {
      if (size + b.length > maxSize) {
        if (i < 2) truncated = true;
        break;
      }
      size += b.length;
      out.push(b);
    }
    return out;
  });
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE(truncated ? m.flags | 0x0200 : m.flags, 2);
  header.writeUInt16BE(m.question.length, 4);
  header.writeUInt16BE(kept[0].length, 6);
  header.writeUInt16BE(kept[1].length, 8);
  header.writeUInt16BE(kept[2].length + opt.length, 10);
  return Buffer.concat([header, question, ...kept[0], ...kept[1], ...kept[2], ...opt]);
}
