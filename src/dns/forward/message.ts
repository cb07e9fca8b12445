import { FLAG_QR, FLAG_RA, FLAG_TC } from '../wire/constants.ts';
import { parseQuery } from '../wire/query.ts';

export interface Question {
  name: string;
  qtype: number;
  qclass: number;
  questionEnd: number;
  dnssecOk: boolean;
}

/** The question of a query packet, or null when it cannot be read (such packets are not forwarded). */
export function questionOf(query: Buffer): Question | null {
  const p = parseQuery(query);
  if (p.kind !== 'query') return null;
  const q = p.query;
  return { name: q.name, qtype: q.qtype, qclass: q.qclass, questionEnd: q.questionEnd, dnssecOk: q.edns?.dnssecOk ?? false };
}

/** A reply carrying only the header and question, with `rcode` (REFUSED above max_concurrent, as CoreDNS). */
export function rcodeReply(query: Buffer, questionEnd: number, rcode: number): Buffer {
  const out = Buffer.from(query.subarray(0, questionEnd));
  out.writeUInt16BE(FLAG_QR | FLAG_RA | (query.readUInt16BE(2) & 0x7910) | (rcode & 0xf), 2);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

export function isTruncated(reply: Buffer): boolean {
  return (reply.readUInt16BE(2) & FLAG_TC) !== 0;
}

/** `. IN NS`, CoreDNS's health-check query (plugin/forward README), or the configured domain. */
export function healthCheckQuery(domain: string, recursion: boolean): Buffer {
  const labels = domain === '.' ? [] : domain.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([0, 0, recursion ? 0x01 : 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  parts[0].writeUInt16BE((Math.random() * 0x10000) | 0, 0);
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, 0, 2, 0, 1]));
  return Buffer.concat(parts);
}
