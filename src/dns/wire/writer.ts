import { isIPv4, isIPv6 } from 'node:net';
import type { ResourceRecord } from './records.ts';
import { FLAG_AA, FLAG_QR, FLAG_RA, HEADER_SIZE, RRClass, RRType } from './constants.ts';

// A hand-written encoder: bench/dns-codec.ts measured it against dns2 on the
// hot path (decode a query, encode an answer), and this one is several times
// faster; dns2 stays a dev-time reference decoder in the tests.

/** The encoded message and where its answer records end, so a too-long UDP answer can be cut at a record boundary. */
export interface EncodedMessage {
  bytes: Buffer;
  /** Offset just after each answer record. */
  answerEnds: number[];
  /** Offset of every record's 32-bit TTL, in message order (the `cache` plugin rewrites them as answers age). */
  ttlOffsets: number[];
  ancount: number;
  nscount: number;
  arcount: number;
  rcode: number;
}

export interface MessageParts {
  id: number;
  /** The query's flags: RD and CD are copied into the reply. */
  queryFlags: number;
  /** The question as sent (bytes 12..questionEnd of the query): echoed verbatim, so the reply keeps the query's case. */
  question: Buffer;
  /** The question name, lowercased; its suffixes seed the compression table at offset 12. */
  qname: string;
  rcode: number;
  authoritative: boolean;
  /**
   * RA. CoreDNS sets it only on what a recursive step answered (forward);
   * its own zones' answers (kubernetes, hosts) and its error replies carry
   * RA=0, and so do ours.
   */
  recursionAvailable?: boolean;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
  additional: readonly ResourceRecord[];
}

const POINTER_LIMIT = 0x3fff;

/** A label's wire bytes; undoes the \DDD escapes readQuestionName writes. */
function labelBytes(label: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5c && i + 3 < label.length && /^\d{3}$/.test(label.slice(i + 1, i + 4))) {
      out.push(Number(label.slice(i + 1, i + 4)));
      i += 3;
    } else out.push(c & 0xff);
  }
  return out;
}

class Writer {
  buf = Buffer.allocUnsafe(512);
  pos = 0;
  readonly #names = new Map<string, number>();

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Buffer | number[]): void {
    this.ensure(b.length);
    if (Buffer.isBuffer(b)) b.copy(this.buf, this.pos);
    else for (let i = 0; i < b.length; i++) this.buf[this.pos + i] = b[i];
    this.pos += b.length;
  }

  /** Remembers where a name's suffixes are without writing them (the echoed question). */
  seed(name: string, offset: number): void {
    let at = offset;
    let start = 0;
    while (start < name.length && name !== '.') {
      const suffix = start === 0 ? name : name.slice(start);
      if (at <= POINTER_LIMIT && !this.#names.has(suffix)) this.#names.set(suffix, at);
      const end = labelEnd(name, start);
      at += labelWireLength(name.slice(start, end)) + 1;
      start = end + 1;
    }
  }

  /**
   * Writes a name, pointing at an earlier copy of its longest known suffix
   * when `compress` (RFC 1035 §4.1.4). Names compare case-insensitively, and
   * ours are lowercase already. Suffixes are substrings of the name (cheap
   * in V8), looked up in one map: this is the cold path's main cost.
   */
  name(name: string, compress: boolean): void {
    let start = 0;
    while (start < name.length && name !== '.') {
      const suffix = start === 0 ? name : name.slice(start);
      const at = this.#names.get(suffix);
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (at === undefined && this.pos <= POINTER_LIMIT) this.#names.set(suffix, this.pos);
      const end = labelEnd(name, start);
      const label = name.slice(start, end);
      if (label.includes('\\')) {
        const bytes = labelBytes(label);
        this.u8(bytes.length);
        this.bytes(bytes);
      } else {
        this.ensure(label.length + 1);
        this.buf[this.pos++] = label.length;
        this.pos += this.buf.write(label, this.pos, 'latin1');
      }
      start = end + 1;
    }
    this.u8(0);
  }
}

function labelEnd(name: string, start: number): number {
  const end = name.indexOf('.', start);
  return end < 0 ? name.length : end;
}

function labelWireLength(label: string): number {
  return label.includes('\\') ? labelBytes(label).length : label.length;
}

function ipv4Bytes(address: string): number[] {
  if (!isIPv4(address)) throw new TypeError(`not an IPv4 address: ${address}`);
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address, '::' and an embedded IPv4 tail included. */
export function ipv6Bytes(address: string): number[] {
  if (!isIPv6(address)) throw new TypeError(`not an IPv6 address: ${address}`);
  let text = address.split('%')[0];
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail.push(...ipv4Bytes(text.slice(lastColon + 1)));
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

function writeRecord(w: Writer, record: ResourceRecord, ttlOffsets: number[]): void {
  const d = record.data;
  w.name(record.name, true);
  w.u16(d.type);
  w.u16(RRClass.IN);
  ttlOffsets.push(w.pos);
  w.u32(record.ttl);
  const lengthAt = w.pos;
  w.u16(0);
  switch (d.type) {
    case RRType.A:
      w.bytes(ipv4Bytes(d.address));
      break;
    case RRType.AAAA:
      w.bytes(ipv6Bytes(d.address));
      break;
    case RRType.CNAME:
    case RRType.PTR:
    case RRType.NS:
      w.name(d.target, true);
      break;
    case RRType.TXT:
      for (const t of d.texts) {
        const b = Buffer.from(t, 'utf8').subarray(0, 255);
        w.u8(b.length);
        w.bytes(b);
      }
      break;
    case RRType.SRV:
      w.u16(d.srv.priority);
      w.u16(d.srv.weight);
      w.u16(d.srv.port);
      // RFC 2782: "name compression is not to be used for this field".
      w.name(d.srv.target, false);
      break;
    case RRType.SOA:
      w.name(d.soa.mname, true);
      w.name(d.soa.rname, true);
      w.u32(d.soa.serial);
      w.u32(d.soa.refresh);
      w.u32(d.soa.retry);
      w.u32(d.soa.expire);
      w.u32(d.soa.minimum);
      break;
  }
  w.buf.writeUInt16BE(w.pos - lengthAt - 2, lengthAt);
}

/** Encodes a whole reply (no OPT: the caller appends one per client, see response.ts). */
export function encodeMessage(p: MessageParts): EncodedMessage {
  const w = new Writer();
  w.u16(p.id);
  let flags = FLAG_QR | (p.queryFlags & 0x0110) | (p.rcode & 0xf);
  if (p.authoritative) flags |= FLAG_AA;
  if (p.recursionAvailable) flags |= FLAG_RA;
  w.u16(flags);
  w.u16(p.question.length ? 1 : 0);
  w.u16(p.answer.length);
  w.u16(p.authority.length);
  w.u16(p.additional.length);
  if (p.question.length) {
    w.bytes(p.question);
    w.seed(p.qname, HEADER_SIZE);
  }
  const answerEnds: number[] = [];
  const ttlOffsets: number[] = [];
  for (const r of p.answer) {
    writeRecord(w, r, ttlOffsets);
    answerEnds.push(w.pos);
  }
  for (const r of p.authority) writeRecord(w, r, ttlOffsets);
  for (const r of p.additional) writeRecord(w, r, ttlOffsets);
  return {
    bytes: w.buf.subarray(0, w.pos),
    answerEnds,
    ttlOffsets,
    ancount: p.answer.length,
    nscount: p.authority.length,
    arcount: p.additional.length,
    rcode: p.rcode,
  };
}
