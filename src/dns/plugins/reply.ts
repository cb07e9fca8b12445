import { FLAG_AA, FLAG_QR, RRType } from '../wire/constants.ts';
import type { Ask } from './pipeline.ts';
import { replyLimit } from './pipeline.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { WireMessage, WireRecord } from './message.ts';

/**
 * A reply to `ask` made of `records`, as the step that answers writes it:
 * the query's question as sent, RD and CD copied, an OPT when the query had
 * one (RFC 6891 §7) and with it an Extended DNS Error if given (a query
 * without OPT gets none: RFC 6891 §7 forbids an OPT in its reply), cut to
 * the client's size with TC set.
 */
export function replyWith(ask: Ask, parts: { rcode: number; authoritative: boolean; answer?: WireRecord[]; authority?: WireRecord[]; additional?: WireRecord[]; ede?: ExtendedError | null }): Buffer {
  const q = decodeWire(ask.packet)!;
  const flags = FLAG_QR | (parts.authoritative ? FLAG_AA : 0) | (ask.query.flags & 0x0110) | (ask.query.opcode << 11) | (parts.rcode & 0xf);
  const additional = [...(parts.additional ?? [])];
  if (ask.query.edns) {
    const udp = Math.max(512, ask.query.edns.udpSize);
    additional.push({ name: '.', type: RRType.OPT, class: udp, ttl: ((parts.rcode >> 4) << 24) | (ask.query.edns.dnssecOk ? 0x8000 : 0), rdata: parts.ede ? [edeOption(parts.ede)] : [] });
  }
  const m: WireMessage = { id: ask.query.id, flags, question: q.question, answer: parts.answer ?? [], authority: parts.authority ?? [], additional };
  return encodeWire(m, replyLimit(ask));
}

/** An Extended DNS Error: INFO-CODE and EXTRA-TEXT (RFC 8914 §2). */
export interface ExtendedError {
  code: number;
  text: string;
}

/** The EDE option as OPT record data: OPTION-CODE 15, OPTION-LENGTH, INFO-CODE, then the UTF-8 text. */
function edeOption(ede: ExtendedError): Buffer {
  const text = Buffer.from(ede.text, 'utf8');
  const option = Buffer.alloc(6 + text.length);
  option.writeUInt16BE(15, 0);
  option.writeUInt16BE(2 + text.length, 2);
  option.writeUInt16BE(ede.code, 4);
  text.copy(option, 6);
  return option;
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
