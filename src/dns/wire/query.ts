import { FLAG_CD, FLAG_QR, FLAG_RD, HEADER_SIZE, MAX_NAME_LENGTH, RRType } from './constants.ts';

/** EDNS0 fields of a query's OPT record (RFC 6891 §6.1.3). */
export interface Edns {
  /** The requestor's UDP payload size; values below 512 count as 512. */
  udpSize: number;
  version: number;
  /** DNSSEC OK; echoed so the client sees we read it. */
  dnssecOk: boolean;
}

/** A query whose header and question we could read. */
export interface Query {
  id: number;
  opcode: number;
  flags: number;
  rd: boolean;
  cd: boolean;
  qdcount: number;
  /**
   * The question name in presentation form, ASCII-lowercased, with the
   * trailing dot ("web.default.svc.cluster.local."); bytes outside
   * letters, digits, '-', '_' and '*' are written \DDD so that two different
   * wire names never share a key.
   */
  name: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question: [12, questionEnd) is the question as sent. */
  questionEnd: number;
  edns: Edns | null;
}

/**
 * What to do with a packet: answer it (`query`), answer FORMERR (`formerr`,
 * the header was readable), or drop it (`drop`: shorter than a header, or a
 * response, answering which could start a loop between two servers).
 */
export type Parsed =
  | { kind: 'query'; query: Query }
  | { kind: 'formerr'; id: number; flags: number; reason: string }
  | { kind: 'notimp'; id: number; flags: number; reason: string }
  | { kind: 'drop'; reason: string };

const DOT = 0x2e;

function isPlain(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2a;
}

/**
 * Reads the uncompressed question name at `offset`. A compression pointer
 * cannot occur in a well-formed question (there is nothing before it to
 * point at but the header), so it is a format error here.
 */
export function readQuestionName(buf: Buffer, offset: number): { name: string; end: number } | string {
  const codes: number[] = [];
  let pos = offset;
  let wireLength = 1;
  for (;;) {
    if (pos >= buf.length) return 'name runs past the end of the packet';
    const len = buf[pos];
    if (len === 0) {
      pos++;
      break;
    }
    if (len & 0xc0) return 'compressed or extended label in the question';
    wireLength += len + 1;
    if (wireLength > MAX_NAME_LENGTH) return 'name longer than 255 bytes';
    if (pos + 1 + len > buf.length) return 'label runs past the end of the packet';
    for (let i = pos + 1; i <= pos + len; i++) {
      let c = buf[i];
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (isPlain(c)) codes.push(c);
      else {
        // \DDD as in RFC 4343 §2.1 presentation escapes.
        const s = c.toString(10).padStart(3, '0');
        codes.push(0x5c, s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2));
      }
    }
    codes.push(DOT);
    pos += len + 1;
  }
  const name = codes.length === 0 ? '.' : String.fromCharCode(...codes);
  return { name, end: pos };
}

/** Skips a possibly compressed name; returns the offset after it, or -1 when it runs off the end or is malformed. */
export function skipName(buf: Buffer, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= buf.length ? pos + 2 : -1;
    if (len & 0xc0) return -1;
    pos += len + 1;
  }
}

export function parseQuery(buf: Buffer): Parsed {
  if (buf.length < HEADER_SIZE) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG_QR) return { kind: 'drop', reason: 'a response, not a query' };
  const opcode = (flags >> 11) & 0xf;
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  const arcount = buf.readUInt16BE(10);
  if (opcode !== 0) return { kind: 'notimp', id, flags, reason: `opcode ${opcode} is not supported` };
  // RFC 9619: a query has exactly one question.
  if (qdcount !== 1) return { kind: 'formerr', id, flags, reason: `QDCOUNT ${qdcount}, want 1` };
  const qn = readQuestionName(buf, HEADER_SIZE);
  if (typeof qn === 'string') return { kind: 'formerr', id, flags, reason: qn };
  if (qn.end + 4 > buf.length) return { kind: 'formerr', id, flags, reason: 'question truncated' };
  const qtype = buf.readUInt16BE(qn.end);
  const qclass = buf.readUInt16BE(qn.end + 2);
  const questionEnd = qn.end + 4;

  let pos = questionEnd;
  let edns: Edns | null = null;
  const records = ancount + nscount + arcount;
  for (let i = 0; i < records; i++) {
    const nameStart = pos;
    pos = skipName(buf, pos);
    if (pos < 0 || pos + 10 > buf.length) return { kind: 'formerr', id, flags, reason: 'record truncated' };
    const type = buf.readUInt16BE(pos);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (pos + 10 + rdlen > buf.length) return { kind: 'formerr', id, flags, reason: 'record data truncated' };
    if (type === RRType.OPT && i >= ancount + nscount) {
      // RFC 6891 §6.1.1: one OPT, owned by the root name.
      if (edns) return { kind: 'formerr', id, flags, reason: 'more than one OPT record' };
      if (buf[nameStart] !== 0) return { kind: 'formerr', id, flags, reason: 'OPT record not owned by the root' };
      const udpSize = buf.readUInt16BE(pos + 2);
      edns = {
        udpSize: Math.max(udpSize, 512),
        version: buf[pos + 5],
        dnssecOk: (buf[pos + 6] & 0x80) !== 0,
      };
    }
    pos += 10 + rdlen;
  }
  return {
    kind: 'query',
    query: {
      id,
      opcode,
      flags,
      rd: (flags & FLAG_RD) !== 0,
      cd: (flags & FLAG_CD) !== 0,
      qdcount,
      name: qn.name,
      qtype,
      qclass,
      questionEnd,
      edns,
    },
  };
}
