import { FLAG_AA, FLAG_QR, RRType } from '../wire/constants.ts';
import type { Ask } from './pipeline.ts';
import { replyLimit } from './pipeline.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { WireMessage, WireRecord } from './message.ts';

/**
 * A reply to `ask` made of `records`, as the step that answers writes it:
 * the query's question as sent, RD and CD copied, an OPT when the query had
 * one (RFC 6891 §7), cut to the client's size with TC set.
 */
export function replyWith(ask: Ask, parts: { rcode: number; authoritative: boolean; answer?: WireRecord[]; authority?: WireRecord[]; additional?: WireRecord[] }): Buffer {
  const q = decodeWire(ask.packet)!;
  const flags = FLAG_QR | (parts.authoritative ? FLAG_AA : 0) | (ask.query.flags & 0x0110) | (ask.query.opcode << 11) | (parts.rcode & 0xf);
  const additional = [...(parts.additional ?? [])];
  if (ask.query.edns) {
    const udp = Math.max(512, ask.query.edns.udpSize);
    additional.push({ name: '.', type: RRType.OPT, class: udp, ttl: ((parts.rcode >> 4) << 24) | (ask.query.edns.dnssecOk ? 0x8000 : 0), rdata: [] });
  }
  const m: WireMessage = { id: ask.query.id, flags, question: q.question, answer: parts.answer ?? [], authority: parts.authority ?? [], additional };
  return encodeWire(m, replyLimit(ask));
}

/** A record from presentation-form pieces (the name absolute). */
export function wireRecord(name: string, type: number, ttl: number, rdata: WireRecord['rdata'], klass = 1): WireRecord {
  return { name, type, class: klass, ttl, rdata };
}

/** TXT data: each string as a length byte and its bytes (RFC 1035 §3.3.14). */
export function txtData(...texts: string[]): Buffer {
  return Buffer.concat(texts.map((t) => {
    const b = Buffer.from(t, 'utf8').subarray(0, 255);
    return Buffer.concat([Buffer.from([b.length]), b]);
  }));
}
